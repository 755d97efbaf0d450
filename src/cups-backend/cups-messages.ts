/**
 * Lines CUPS reads on a backend's stderr (backend(7), filter(7)): INFO, WARNING and ERROR set the
 * printer's state message people see in `lpstat` and the web interface; DEBUG only goes to the log;
 * JOBSTATE sets the job's state reason (held jobs show why).
 */
export interface CupsMessages {
  info(text: string): void;
  warning(text: string): void;
  error(text: string): void;
  debug(text: string): void;
  jobState(reason: 'account-limit-reached' | 'account-closed' | 'account-info-needed' | 'account-authorization-failed'): void;
}

/** Each message is one line (CUPS reads line by line), written whole. */
export function cupsMessages(write: (line: string) => void): CupsMessages {
  const line = (prefix: string) => (text: string) => write(`${prefix}: Recharge: ${text.replace(/[\r\n]+/g, ' ')}\n`);
  return {
    info: line('INFO'),
    warning: line('WARNING'),
    error: line('ERROR'),
    debug: line('DEBUG'),
    jobState: (reason) => write(`JOBSTATE: ${reason}\n`),
  };
}
