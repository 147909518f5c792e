import { reply, startAwsJsonServer, type AwsReply } from './aws-json-server';


export interface SecretsStandIn {
  /** The endpoint for SSM_ENDPOINT and SECRETS_MANAGER_ENDPOINT alike (the target header tells them apart). */
  url: string;
  /** SecureString parameters by name. */
  parameters: Map<string, string>;
  /** Secrets' strings by id. */
  secrets: Map<string, string>;
  /** Every request, in order: `<target> <name or id>`. */
  requests: string[];
  /** Whether each GetParameter asked for decryption. */
  withDecryption: boolean[];
  /** Answers the next `count` requests for `id` with HTTP 400 ThrottlingException. */
  throttle(id: string, count: number): void;
  close(): Promise<void>;
}

/**
 * A local HTTP server speaking the two AWS APIs the secret loader calls, in their JSON 1.1 protocol
 * (POST /, `X-Amz-Target` names the operation, errors as `{"__type": ...}` with HTTP 400):
 * SSM's GetParameter and Secrets Manager's GetSecretValue. It checks no signature; the SDK signs
 * with whatever fake credentials the test environment holds.
 */
export async function startSecretsStandIn(): Promise<SecretsStandIn> {
  const parameters = new Map<string, string>();
  const secrets = new Map<string, string>();
  const requests: string[] = [];
  const withDecryption: boolean[] = [];
  const throttled = new Map<string, number>();

  const handle = (target: string | undefined, body: Record<string, unknown>): AwsReply => {
    const input = body as { Name?: string; WithDecryption?: boolean; SecretId?: string };
    const id = (target === 'AmazonSSM.GetParameter' ? input.Name : input.SecretId) ?? '';
    requests.push(`${target} ${id}`);
    const left = throttled.get(id) ?? 0;
    if (left > 0) {
      throttled.set(id, left - 1);
      return reply(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
    if (target === 'AmazonSSM.GetParameter') {
      withDecryption.push(input.WithDecryption === true);
      const value = parameters.get(id);
      if (value === undefined) return reply(400, { __type: 'ParameterNotFound' });
      return reply(200, { Parameter: { Name: id, Type: 'SecureString', Value: value, Version: 1, DataType: 'text', ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${id}` } });
    }
    if (target === 'secretsmanager.GetSecretValue') {
      const value = secrets.get(id);
      if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
      const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`;
      return reply(200, { ARN: arn, Name: id, SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 });
    }
    return reply(400, { __type: 'UnknownOperationException', message: `no operation ${target}` });
  };

  const server = await startAwsJsonServer(handle);
  return {
    url: server.url,
    parameters,
    secrets,
    requests,
    withDecryption,
    throttle: (id, count) => void throttled.set(id, count),
    close: () => server.close(),
  };
}
