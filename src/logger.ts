// The process logger: pino JSON lines. Credentials never reach a log line: headers that carry
// them are not serialized at all and credential query parameters are masked.

import { pino, type Logger } from 'pino';
import { redactQuery } from './http/app.ts';

/** Fields that hold a credential wherever they appear in a log object (top level or one level down). */
const CREDENTIAL_FIELDS = ['password', 'secret', 'refresh_token', 'access_token', 'api_key', 'token', 'passwordHash', 'secretHash'];

interface ReqLike {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      serializers: {
        req: (req: ReqLike) => ({ id: req.id, method: req.method, url: redactQuery(req.url ?? ''), remoteAddress: req.ip }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          ...CREDENTIAL_FIELDS,
          ...CREDENTIAL_FIELDS.map((field) => `*.${field}`),
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
