import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

/** Structured JSON logs; the redaction list is a second line of defence behind the request serializers. */
export function createLogger(config: Pick<Config, 'log'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.log.level,
      redact: { paths: ['req.headers.cookie', 'req.headers.authorization', '*.password', '*.passwordHash', '*.secret'], censor: '[redacted]' },
    },
    destination,
  );
}
