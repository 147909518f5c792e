/**
 * Checks a CloudFormation template against the resource specification that `@aws-cdk/cfnspec`
 * ships (the one cfn-lint builds on): every resource type and property known, required properties
 * present, values of the right shape down through nested property types, and every Ref, GetAtt,
 * DependsOn and Condition pointing at something the template declares. What CloudFormation itself
 * would refuse at `CreateChangeSet`, found without an AWS account.
 */
import spec from '@aws-cdk/cfnspec/spec/specification.json';

interface PropertySpec {
  Required?: boolean;
  PrimitiveType?: string;
  PrimitiveItemType?: string;
  Type?: string;
  ItemType?: string;
}
interface TypeSpec {
  Properties?: Record<string, PropertySpec>;
  Attributes?: Record<string, unknown>;
}
type Template = {
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; Condition?: string }>;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
};

const RESOURCES = spec.ResourceTypes as Record<string, TypeSpec>;
const PROPERTY_TYPES = spec.PropertyTypes as Record<string, TypeSpec>;

const isIntrinsic = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Fn::\w+)$/.test(Object.keys(v)[0]!);

function primitiveOk(type: string, v: unknown): boolean {
  if (isIntrinsic(v)) return true;
  switch (type) {
    case 'String':
      return typeof v === 'string' || typeof v === 'number';
    case 'Integer':
    case 'Long':
    case 'Double':
      return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));
    case 'Boolean':
      return typeof v === 'boolean' || v === 'true' || v === 'false';
    case 'Json':
      return typeof v === 'object' && v !== null;
    default:
      return true; // Timestamp and the like: CloudFormation parses them itself
  }
}

/** The errors of one template; empty when it passes. */
export function checkTemplate(template: Template): string[] {
  const errors: string[] = [];
  const resourceType = (name: string) => template.Resources[name]?.Type;

  const checkObject = (at: string, owner: string, typeSpec: TypeSpec, value: unknown) => {
    if (isIntrinsic(value)) return;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push(`${at}: expected an object`);
    const props = typeSpec.Properties ?? {};
    for (const [name, p] of Object.entries(props)) {
      if (p.Required && !(name in value)) errors.push(`${at}: required property ${name} missing`);
    }
    for (const [name, v] of Object.entries(value)) {
      const p = props[name];
      if (!p) errors.push(`${at}: unknown property ${name}`);
      else checkValue(`${at}.${name}`, owner, p, v);
    }
  };

  const nested = (owner: string, type: string) => PROPERTY_TYPES[type === 'Tag' ? 'Tag' : `${owner}.${type}`];

  const checkItem = (at: string, owner: string, p: PropertySpec, item: unknown) => {
    if (p.PrimitiveItemType) {
      if (!primitiveOk(p.PrimitiveItemType, item)) errors.push(`${at}: expected ${p.PrimitiveItemType}`);
    } else if (p.ItemType) {
      const t = nested(owner, p.ItemType);
      if (!t) errors.push(`${at}: unknown property type ${p.ItemType}`);
      else checkObject(at, owner, t, item);
    }
  };

  const checkValue = (at: string, owner: string, p: PropertySpec, v: unknown) => {
    if (isIntrinsic(v)) return;
    if (p.PrimitiveType) {
      if (!primitiveOk(p.PrimitiveType, v)) errors.push(`${at}: expected ${p.PrimitiveType}, got ${JSON.stringify(v)}`);
    } else if (p.Type === 'List') {
      if (!Array.isArray(v)) return void errors.push(`${at}: expected a list`);
      v.forEach((item, i) => checkItem(`${at}[${i}]`, owner, p, item));
    } else if (p.Type === 'Map') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return void errors.push(`${at}: expected a map`);
      for (const [k, item] of Object.entries(v)) checkItem(`${at}.${k}`, owner, p, item);
    } else if (p.Type) {
      const t = nested(owner, p.Type);
      if (!t) errors.push(`${at}: unknown property type ${p.Type}`);
      else checkObject(at, owner, t, v);
    }
  };

  for (const [name, resource] of Object.entries(template.Resources)) {
    const at = `Resources.${name}`;
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
      if (!resource.Properties?.ServiceToken) errors.push(`${at}: custom resource without ServiceToken`);
    } else if (!RESOURCES[resource.Type]) {
      errors.push(`${at}: unknown resource type ${resource.Type}`);
    } else {
      checkObject(`${at}.Properties`, resource.Type, RESOURCES[resource.Type]!, resource.Properties ?? {});
    }
    for (const dep of [resource.DependsOn ?? []].flat()) {
      if (!template.Resources[dep]) errors.push(`${at}.DependsOn: no resource ${dep}`);
    }
    if (resource.Condition && !template.Conditions?.[resource.Condition]) errors.push(`${at}.Condition: no condition ${resource.Condition}`);
  }

  // References anywhere in the template.
  const walk = (at: string, v: unknown): void => {
    if (Array.isArray(v)) return v.forEach((item, i) => walk(`${at}[${i}]`, item));
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::') && !template.Resources[o.Ref] && !template.Parameters?.[o.Ref]) {
      errors.push(`${at}: Ref to unknown ${o.Ref}`);
    }
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      const [target, attribute] = getAtt as [string, string];
      const type = resourceType(target);
      if (!type) errors.push(`${at}: GetAtt of unknown ${target}`);
      else if (RESOURCES[type] && !(attribute in (RESOURCES[type]!.Attributes ?? {}))) errors.push(`${at}: ${type} has no attribute ${attribute}`);
    }
    if (typeof o['Fn::Sub'] === 'string') {
      for (const [, ref] of (o['Fn::Sub'] as string).matchAll(/\$\{([^}!]+)\}/g)) {
        const [target, attribute] = ref!.split('.');
        if (target!.startsWith('AWS::')) continue;
        const type = resourceType(target!);
        if (!type && !template.Parameters?.[target!]) errors.push(`${at}: Sub of unknown ${target}`);
        else if (attribute && type && RESOURCES[type] && !(attribute in (RESOURCES[type]!.Attributes ?? {}))) errors.push(`${at}: ${type} has no attribute ${attribute}`);
      }
    }
    for (const [k, child] of Object.entries(o)) walk(`${at}.${k}`, child);
  };
  walk('Resources', template.Resources);
  walk('Outputs', template.Outputs ?? {});
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition && !template.Conditions?.[output.Condition]) errors.push(`Outputs.${name}.Condition: no condition ${output.Condition}`);
  }
  return errors;
}

/** The specification's version, for messages. */
export const SPEC_VERSION = (spec as { ResourceSpecificationVersion: string }).ResourceSpecificationVersion;
