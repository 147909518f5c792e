import type { Context } from 'aws-lambda';
import type { CustomResourceEvent, CustomResourceResponse } from '../../lib/platform/aws/custom-resource';
import { migrationsResource } from '../../lib/platform/db/deploy-migrations';

/** Time kept to answer CloudFormation before the function's own timeout would cut it off. */
const ANSWER_MARGIN_MS = 10_000;

/**
 * The `Custom::Migrations` resource's function: applies pending migrations on Create and Update,
 * so a deploy puts the schema in place before the code that needs it, and always answers
 * CloudFormation (lib/platform/db/deploy-migrations.ts).
 */
export async function handler(event: CustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CustomResourceResponse> {
  const remaining = context?.getRemainingTimeInMillis?.();
  return migrationsResource(event, {
    deadline: remaining ? Date.now() + Math.max(1_000, remaining - ANSWER_MARGIN_MS) : undefined,
  });
}
