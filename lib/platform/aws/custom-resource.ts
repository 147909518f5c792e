import { logger } from '../observability/logger';

/** What CloudFormation sends a custom resource's function (the fields this product reads). */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  ResourceType: string;
  PhysicalResourceId?: string;
  ResourceProperties?: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
}

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, unknown>;
}

export interface CustomResourceWork {
  /** The resource's id; keep it stable, or an Update that changes it makes CloudFormation delete the old one. */
  physicalResourceId: string;
  /** Runs the request; its result is the response's Data. */
  run(): Promise<Record<string, unknown>>;
  /** Values that must never reach the response (passwords, URLs that carry one). */
  secrets: string[];
  /** Answer FAILED at this time if the work is still running (before the function's own timeout). */
  deadline?: number;
}

/** CloudFormation shows the reason in the console and events; it caps the whole response at 4 KiB. */
const REASON_MAX = 400;
const PUT_ATTEMPTS = 3;

/**
 * Runs a custom resource request and always answers it: without an answer CloudFormation waits an
 * hour before it fails the stack, and as long again on rollback. A failure's reason is the error's
 * message with every secret cut out, short.
 */
export async function answerCustomResource(event: CustomResourceEvent, work: CustomResourceWork): Promise<CustomResourceResponse> {
  const base = {
    PhysicalResourceId: work.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let response: CustomResourceResponse = { ...base, Status: 'FAILED', Reason: 'not run' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      if (work.deadline) timer = setTimeout(() => reject(new Error('still running when the function was about to time out')), Math.max(0, work.deadline - Date.now()));
    });
    const data = await Promise.race([work.run(), timedOut]);
    response = { ...base, Status: 'SUCCESS', Reason: `${event.RequestType} done`, Data: data };
  } catch (err) {
    const reason = redact((err as Error).message || String(err), work.secrets).slice(0, REASON_MAX);
    response = { ...base, Status: 'FAILED', Reason: reason };
    logger.error('custom_resource.failed', { requestType: event.RequestType, resource: event.LogicalResourceId, reason });
  } finally {
    clearTimeout(timer);
    await sendResponse(event.ResponseURL, response);
  }
  return response;
}

/** Replaces each secret (as written and URL-encoded) with `***`. */
export function redact(text: string, secrets: string[]): string {
  const forms = secrets.filter((s) => s.length > 0).flatMap((s) => [s, encodeURIComponent(s)]);
  // Longest first: a URL goes before the password inside it.
  return forms.sort((a, b) => b.length - a.length).reduce((out, s) => out.split(s).join('***'), text);
}

/**
 * PUTs the response to CloudFormation's pre-signed S3 URL, as its cfn-response module does (no
 * content type: the URL's signature covers none). Retried: a lost answer costs the stack an hour.
 */
async function sendResponse(url: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 1; attempt <= PUT_ATTEMPTS; attempt++) {
    try {
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' }, signal: AbortSignal.timeout(10_000) });
      if (res.ok) {
        logger.info('custom_resource.answered', { status: response.Status, resource: response.LogicalResourceId });
        return;
      }
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      logger.warn('custom_resource.answer_failed', { attempt, error: (err as Error).message });
      if (attempt < PUT_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
