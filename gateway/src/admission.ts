import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '@orderflow/common';

export interface AdmissionControlOptions {
  /** Requests being answered at once, beyond which new ones are refused. */
  maxInFlight: number;
  /** Seconds a refused client is told to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** Called for each refused request (metrics). */
  onShed?: () => void;
}

/**
 * Load shedding in front of /graphql: when `maxInFlight` requests are already
 * being answered, a new one is refused at once — HTTP 503, `Retry-After`,
 * and a GraphQL error with code SERVICE_UNAVAILABLE — before its token is
 * verified or its body parsed. An overloaded gateway thus answers quickly
 * with "retry shortly" instead of queueing work until every client times
 * out, and a load balancer sees the 503 and sends the retry elsewhere.
 */
export function createAdmissionControl({
  maxInFlight,
  retryAfterSeconds = 1,
  onShed = () => {},
}: AdmissionControlOptions): RequestHandler & { inFlight(): number } {
  let inFlight = 0;
  const handler = (req: Request, res: Response, next: NextFunction) => {
    if (inFlight >= maxInFlight) {
      onShed();
      res.set('Retry-After', String(retryAfterSeconds));
      return void res.status(503).json({
        errors: [
          {
            message: `The service is overloaded; retry in ${retryAfterSeconds} s`,
            extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfter: retryAfterSeconds },
          },
        ],
      });
    }
    inFlight++;
    let done = false;
    // 'close' fires for every response, finished or aborted by the client: each request is counted out once.
    res.once('close', () => {
      if (!done) inFlight--;
      done = true;
    });
    next();
  };
  return Object.assign(handler, { inFlight: () => inFlight });
}
