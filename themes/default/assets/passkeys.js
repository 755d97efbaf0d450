// Passkeys (WebAuthn) on the second-factor check (views/pages/second-factor.ejs) and on Account
// security (views/pages/security.ejs): the buttons work only where the browser has WebAuthn, and the
// codes' forms remain for everyone else. The browser API's binary fields are converted by
// @simplewebauthn/browser, the server library's other half (served at /assets/vendor/, loaded
// before this file), rather than by hand. Answers are urlencoded forms: the CSRF token is read
// from such a body (src/web/middleware/csrf.ts), and the browser's answer travels as JSON text.
(() => {
  const webauthn = window.SimpleWebAuthnBrowser;
  const supported = Boolean(window.PublicKeyCredential && webauthn && webauthn.browserSupportsWebAuthn());

  /** POSTs `fields`; the JSON answer, or null when the portal sent the page elsewhere (signed out: the login page). */
  async function post(url, fields) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      body: new URLSearchParams(fields),
    });
    if (response.redirected) {
      window.location.assign(response.url);
      return null;
    }
    let body = {};
    try {
      body = await response.json();
    } catch {
      // An error page (a form expired, too many requests): the section's own message says it.
    }
    return { ok: response.ok, body };
  }

  function enhance(section, ceremony) {
    const button = section.querySelector('[data-passkey-button]');
    const error = section.querySelector('[data-passkey-error]');
    const showError = (text) => {
      error.textContent = text || error.dataset.failed;
      error.hidden = false;
    };
    if (!supported) return showError(error.dataset.unsupported);
    button.disabled = false;
    button.addEventListener('click', async () => {
      button.disabled = true;
      error.hidden = true;
      try {
        const outcome = await ceremony(section.dataset);
        if (outcome === null) return;
        if (outcome.body.location) return window.location.assign(outcome.body.location);
        showError(outcome.body.error);
      } catch {
        // Cancelled, timed out, or no matching passkey on this device: the browser said why already.
        showError();
      } finally {
        button.disabled = false;
      }
    });
  }

  /**
   * Options first (they carry the challenge the session keeps), then the browser's ceremony, then its
   * answer; an answer with `location` (signed in, added, or a check asked first) is followed.
   */
  async function ceremony(data, fields, start) {
    const given = await post(data.options, { _csrf: data.csrf, ...fields });
    if (given === null || given.body.location || !given.ok || !given.body.options) return given;
    const credential = await start({ optionsJSON: given.body.options });
    return post(data.verify, { _csrf: data.csrf, ...fields, credential: JSON.stringify(credential) });
  }

  const check = document.querySelector('[data-passkey-check]');
  if (check) enhance(check, (data) => ceremony(data, { returnTo: data.returnTo || '/' }, webauthn.startAuthentication));

  const register = document.querySelector('[data-passkey-register]');
  if (register) {
    const name = register.querySelector('[data-passkey-name]');
    enhance(register, (data) => ceremony(data, { name: name.value }, webauthn.startRegistration));
  }
})();
