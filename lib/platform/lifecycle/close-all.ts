import { closeApiGatewayClients } from '../aws/apigateway';
import { closeKmsClient } from '../aws/kms';
import { closeLambdaClient } from '../aws/lambda';
import { closeDb } from '../db/client';
import { closeMailer } from '../mail/mailer';
import { logger } from '../observability/logger';
import { closeQueues } from '../queues/queues';
import { closeRedis } from '../redis/client';

/**
 * Closes every connection this container's lib/ modules created, in dependency order: queues
 * before the Redis client they share, then the database. Connections passed in from outside are
 * never touched. Lambda functions do not call it (a frozen container keeps them); the worker
 * calls it on shutdown, tests and scripts at exit.
 */
export async function closeAll(): Promise<void> {
  await closeQueues();
  await closeRedis();
  await closeDb();
  closeLambdaClient();
  closeKmsClient();
  closeApiGatewayClients();
  closeMailer();
  logger.info('connections.closed');
}
