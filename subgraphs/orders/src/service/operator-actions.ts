import { sqlPool } from '@orderflow/common/db';
import type { Logger } from '@orderflow/common/observability';
import { appError, badInput, type Viewer } from '@orderflow/common/server';
import { ErrorCode, isTextWithin, isUuid } from '@orderflow/contracts';
import type { Db } from '../db.ts';
import type { DeadLetters } from '../events/dead-letters.ts';
import type { CancelOrderResult } from './cancel-order.ts';

type CancelOrder = (viewer: Viewer, orderId: string, reason?: string | null) => Promise<CancelOrderResult>;

/**
 * What an operator does from the console, each recorded in the order's timeline (operator_actions)
 * with the operator's OAuth client id. Scopes are @requiresScopes on the mutations, their only callers.
 */
export function createOperatorActions({
  db,
  cancelOrder,
  deadLetters,
  log,
}: {
  db: Db;
  /** The customer's cancel (service/cancel-order.ts): the operator's goes through the same rules. */
  cancelOrder: CancelOrder;
  deadLetters: DeadLetters | null;
  log: Logger;
}) {
  const sql = sqlPool(db);
  const record = (orderId: string, action: string, actor: string, summary: string, internal = false) =>
    sql.query(
      `INSERT INTO operator_actions (order_id, action, actor, summary, internal) VALUES ($1::uuid, $2, $3, $4, $5)`,
      [orderId, action, actor, summary, internal],
    );

  return {
    /**
     * Cancels any customer's order with the customer's rules (before it ships; a paid one is refunded
     * and its stock returned). The cancel acts for the order's owner; the timeline says who asked.
     */
    async cancelOrderAsOperator(viewer: Viewer, orderId: string, reason?: string | null): Promise<CancelOrderResult> {
      if (!isUuid(orderId)) throw badInput('orderId is not a valid order id', 'orderId');
      if (reason != null && !isTextWithin(reason, 0, 500))
        throw badInput('reason must be at most 500 characters', 'reason');
      const order = await db.order.findUnique({ where: { id: orderId }, select: { customerId: true } });
      if (!order) throw appError(ErrorCode.NOT_FOUND, 'Order not found');
      const why = `cancelled by an operator${reason ? `: ${reason}` : ''}`;
      const result = await cancelOrder({ ...viewer, id: order.customerId }, orderId, why);
      if (result.__typename !== 'CannotCancel') {
        await record(
          orderId,
          'cancel',
          viewer.clientId,
          `Cancel requested by an operator${reason ? `: ${reason}` : ''}`,
        );
        log.info({ orderId, actor: viewer.clientId, outcome: result.__typename }, 'order cancelled by an operator');
      }
      return result;
    },

    /**
     * Publishes one dead-lettered event again (consumers that had handled it skip it; the one that
     * failed gets it again) and removes the letter. NOT_FOUND for no such letter; BAD_USER_INPUT for
     * one this service may not publish (another service's event: `npm run dlq -- replay <seq>`).
     */
    async replayDeadLetter(viewer: Viewer, sequence: number): Promise<boolean> {
      if (!Number.isInteger(sequence) || sequence < 1)
        throw badInput('sequence must be a positive integer', 'sequence');
      if (!deadLetters) throw appError(ErrorCode.SERVICE_UNAVAILABLE, 'Dead letters are not available; retry later');
      const letter = await deadLetters.get(sequence);
      if (!letter) throw appError(ErrorCode.NOT_FOUND, `No dead letter with sequence ${sequence}`);
      if (!deadLetters.canReplay(letter))
        throw badInput(
          `A ${letter.type} event is published by another service: replay it with npm run dlq -- replay ${sequence}`,
          'sequence',
        );
      await deadLetters.replay(letter);
      if (letter.orderId && isUuid(letter.orderId))
        await record(
          letter.orderId,
          'replay',
          viewer.clientId,
          `Replayed dead letter ${sequence} (${letter.type}, failed in ${letter.consumer})`,
          true,
        );
      log.info(
        { sequence, type: letter.type, consumer: letter.consumer, actor: viewer.clientId },
        'dead letter replayed',
      );
      return true;
    },
  };
}
