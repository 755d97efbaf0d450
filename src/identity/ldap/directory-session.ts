import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { Client, InvalidCredentialsError } from 'ldapts';
import { secretVariable, type LdapProviderConfig } from '../../domain/identity/provider-config.js';

/** The directory did not finish in time: connecting, StartTLS and every request together. */
export class DirectoryTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`the directory did not answer within ${timeoutMs} ms`);
    this.name = 'DirectoryTimeout';
  }
}

/** The service account's bind was refused: the portal's configuration is wrong, not the person's password. */
export class ServiceAccountRefused extends Error {
  constructor(config: LdapProviderConfig, cause: InvalidCredentialsError) {
    super(`the directory refused the service account ${config.bindDn} (${describeFailure(cause)}): check its DN and ${secretVariable(config.id)}`);
    this.name = 'ServiceAccountRefused';
  }
}

export interface DirectorySession {
  /** A new client, connected, over TLS when configured (StartTLS done before anything else is sent). */
  open(): Promise<Client>;
  /** Binds `client` as the service account; never anonymously (the caller checked that there is a secret). */
  bindServiceAccount(client: Client, secret: string): Promise<void>;
  /** The certificate the directory presented on this session's latest TLS connection. */
  peerCertificate(): X509Certificate | undefined;
}

/**
 * Runs `work` against the directory, all of it within `config.timeoutMs`: ldapts's own timeouts
 * bound the TCP connection and each request, but not the sum of them nor the TLS handshake after
 * StartTLS, which a stalled server could hold open forever. When `work` ends, or the time is up,
 * every client is unbound and every socket it used destroyed, so nothing outlives the call.
 */
export async function withDirectory<T>(config: LdapProviderConfig, ca: string | Buffer | undefined, work: (session: DirectorySession) => Promise<T>): Promise<T> {
  const url = new URL(config.url);
  const implicitTls = url.protocol === 'ldaps:';
  // Meaningless on ldaps://, which is TLS from the first byte.
  const startTls = !implicitTls && config.startTls;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const tlsOptions = (): tls.ConnectionOptions => ({ ca, rejectUnauthorized: true, ...(net.isIP(host) ? {} : { servername: host }) });

  const clients: Client[] = [];
  const sockets: Socket[] = [];
  let latestTlsSocket: TLSSocket | undefined;
  let over = false;
  const tracked = <S extends Socket>(socket: S) => (sockets.push(socket), socket);

  const session: DirectorySession = {
    async open() {
      // Work still running after the deadline must not connect again once everything was closed.
      if (over) throw new DirectoryTimeout(config.timeoutMs);
      const client = new Client({
        url: config.url,
        connectTimeout: config.timeoutMs,
        timeout: config.timeoutMs,
        // Only for ldaps://: ldapts speaks TLS from the first byte whenever tlsOptions are set, which would break StartTLS.
        tlsOptions: implicitTls ? tlsOptions() : undefined,
        createConnection: ((...args: Parameters<typeof net.connect>) => tracked(net.connect(...args))) as typeof net.connect,
        createSecureConnection: ((...args: Parameters<typeof tls.connect>) => (latestTlsSocket = tracked(tls.connect(...args)))) as typeof tls.connect,
      });
      clients.push(client);
      if (startTls) await client.startTLS({ ...tlsOptions(), host });
      return client;
    },
    async bindServiceAccount(client, secret) {
      try {
        await client.bind(config.bindDn, secret);
      } catch (error) {
        throw error instanceof InvalidCredentialsError ? new ServiceAccountRefused(config, error) : error;
      }
    },
    peerCertificate: () => latestTlsSocket?.getPeerX509Certificate(),
  };

  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new DirectoryTimeout(config.timeoutMs)), config.timeoutMs)));
  try {
    return await Promise.race([work(session), expired]);
  } finally {
    over = true;
    clearTimeout(timer);
    await Promise.all(clients.map((client) => client.unbind().catch(() => undefined)));
    // unbind leaves alone a connection still being made: the person's, opened late, could otherwise
    // connect after this call returned and still send the bind.
    for (const socket of sockets) socket.destroy();
  }
}

/** One line for the log: what failed, with the socket's or TLS's error code, or the LDAP result code and the server's message. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: unknown };
  // ldapts ends the server's diagnostic message with " Code: 0x31"; the result code is given here in decimal, as RFC 4511 lists them.
  if (typeof code === 'number') return `LDAP result ${code}${diagnostic(error.message)}`;
  if (typeof code === 'string' && !error.message.startsWith(code)) return `${code}: ${error.message}`;
  return error.message;
}

const diagnostic = (message: string) => {
  const text = message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
  return text ? `: ${text}` : '';
};
