import { X509Certificate } from 'node:crypto';
import { DOMParser, onErrorStopParsing } from '@xmldom/xmldom';
import type { ProviderHealth } from '../../domain/identity/identity.js';
import type { SamlProviderConfig } from '../../domain/identity/provider-config.js';

const DAY_MS = 24 * 3600_000;
/** Time enough to obtain the IdP's new certificate and configure it before sign-ins fail. */
export const CERTIFICATE_WARNING_MS = 30 * DAY_MS;
const METADATA_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';

type Certificate = NonNullable<ProviderHealth['certificates']>[number];

/**
 * The IdP's metadata reachable and describing the IdP, when a URL is configured (otherwise there is
 * nothing to reach, and the provider counts as reachable while one certificate is valid), and every
 * configured signing certificate's subject and expiry. Never throws.
 */
export async function samlHealth(config: SamlProviderConfig, now: Date): Promise<ProviderHealth> {
  const read = config.idpCertificates.map(readCertificate);
  const certificates = read.filter((certificate): certificate is Certificate => certificate !== null);
  const notes = [
    ...(certificates.length < read.length ? [`${read.length - certificates.length} configured IdP certificate(s) could not be read`] : []),
    ...certificates.flatMap((certificate) => expiryNote(certificate, now)),
  ];
  const metadata = config.metadataUrl ? await metadataReachable(config.metadataUrl, config.idpIssuer, config.timeoutMs) : null;
  const detail = [metadata?.detail ?? 'no metadata URL configured', ...notes].join('; ');
  const valid = certificates.some((certificate) => Date.parse(certificate.notAfter) > now.getTime());
  return { reachable: metadata?.reachable ?? valid, detail, certificates, checkedAt: now.toISOString() };
}

/** PEM, or base64 DER as IdP metadata carries it. */
function readCertificate(text: string): Certificate | null {
  try {
    const certificate = new X509Certificate(text.includes('-----BEGIN') ? text : Buffer.from(text.replace(/\s+/g, ''), 'base64'));
    return { subject: certificate.subject.replace(/\n/g, ', '), notAfter: new Date(certificate.validTo).toISOString() };
  } catch {
    return null;
  }
}

function expiryNote(certificate: Certificate, now: Date): string[] {
  const left = Date.parse(certificate.notAfter) - now.getTime();
  if (left <= 0) return [`the certificate ${certificate.subject} expired on ${certificate.notAfter}`];
  if (left <= CERTIFICATE_WARNING_MS) return [`the certificate ${certificate.subject} expires in ${Math.ceil(left / DAY_MS)} day(s), on ${certificate.notAfter}`];
  return [];
}

async function metadataReachable(url: string, entityId: string, timeoutMs: number): Promise<{ reachable: boolean; detail: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { reachable: false, detail: `metadata ${url} answered HTTP ${response.status}` };
    const document = new DOMParser({ onError: onErrorStopParsing }).parseFromString(await response.text(), 'text/xml');
    const entities = Array.from(document.getElementsByTagNameNS(METADATA_NS, 'EntityDescriptor'));
    if (!entities.some((entity) => entity.getAttribute('entityID') === entityId)) return { reachable: false, detail: `metadata ${url} does not describe ${entityId}` };
    return { reachable: true, detail: `metadata ${url} describes ${entityId}` };
  } catch (error) {
    return { reachable: false, detail: `metadata ${url} unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
