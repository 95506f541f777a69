import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '@orderflow/contracts';

export interface AdmissionControlOptions {
  /** Requests being answered at once, beyond which new ones are refused. */
  maxInFlight: number;
  /** Seconds a refused client is told to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** Called for each refused request (metrics). */
  onShed?: () => void;
}

export interface AdmissionControl {
  /**
   * Refuses at once when every slot is taken, before the token is verified
   * or the body read; takes no slot (the cheapest refusal under overload).
   */
  whenFull: RequestHandler;
  /** Takes a slot once the body has been read, or refuses; the slot is given back when the response closes. */
  admit: RequestHandler;
  /** Slots taken now. */
  inFlight(): number;
}

/**
 * Load shedding in front of /graphql: when `maxInFlight` requests are already
 * being answered, a new one is refused at once — HTTP 503, `Retry-After`,
 * and a GraphQL error with code SERVICE_UNAVAILABLE. An overloaded gateway
 * thus answers quickly with "retry shortly" instead of queueing work until
 * every client times out, and a load balancer sees the 503 and sends the
 * retry elsewhere.
 *
 * A slot is taken only once the request's body has been read (`admit` after
 * the body parser): a client that trickles its body holds a socket until
 * BODY_TIMEOUT_MS, never a slot, so slow clients at one address cannot shed
 * every other client's requests. `whenFull` in front keeps refusals cheap.
 */
export function createAdmissionControl({
  maxInFlight,
  retryAfterSeconds = 1,
  onShed = () => {},
}: AdmissionControlOptions): AdmissionControl {
  let inFlight = 0;
  const shed = (res: Response) => {
    onShed();
    res.set('Retry-After', String(retryAfterSeconds));
    res.status(503).json({
      errors: [
        {
          message: `The service is overloaded; retry in ${retryAfterSeconds} s`,
          extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, retryAfter: retryAfterSeconds },
        },
      ],
    });
  };
  return {
    whenFull(_req: Request, res: Response, next: NextFunction) {
      if (inFlight >= maxInFlight) return shed(res);
      next();
    },
    admit(_req: Request, res: Response, next: NextFunction) {
      if (inFlight >= maxInFlight) return shed(res);
      inFlight++;
      let done = false;
      // 'close' fires for every response, finished or aborted by the client: each request is counted out once.
      res.once('close', () => {
        if (!done) inFlight--;
        done = true;
      });
      next();
    },
    inFlight: () => inFlight,
  };
}
