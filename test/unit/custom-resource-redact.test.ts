/**
 * What a failed custom resource tells CloudFormation (lib/platform/aws/custom-resource.ts): the
 * error's text with every secret cut out, as written and URL-encoded, the URL before its password.
 */
import { redact } from '../../lib/platform/aws/custom-resource';

it('cuts URLs and passwords out of a reason, in either spelling', () => {
  const url = 'postgresql://app:p%40ss%2Fw0rd@db.internal:5432/agenda';
  const text = `could not reach ${url}; password p@ss/w0rd or p%40ss%2Fw0rd refused`;
  expect(redact(text, [url, 'p%40ss%2Fw0rd', 'p@ss/w0rd'])).toBe('could not reach ***; password *** or *** refused');
});

it('leaves a reason without secrets as it is, and ignores empty ones', () => {
  expect(redact('password authentication failed for user "app"', ['', 'hunter2'])).toBe('password authentication failed for user "app"');
});
