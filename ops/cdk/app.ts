// The CDK app: `npx cdk deploy` in ops/ (see ops/README.md). Settings come from context (`-c key=value`
// or cdk.context.json), are checked by the stack, and need no AWS lookups, so `cdk synth` works offline.
import { App } from 'aws-cdk-lib';
import { type ExistingNetwork, StockstreamerStack } from './stockstreamer-stack.ts';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
};

function existingNetwork(): ExistingNetwork | undefined {
  const vpcId = context('vpcId');
  const subnetId = context('subnetId');
  const availabilityZone = context('availabilityZone');
  if (!vpcId && !subnetId && !availabilityZone) return undefined;
  if (!vpcId || !subnetId || !availabilityZone) {
    throw new Error('an existing VPC needs all three of: -c vpcId=… -c subnetId=… -c availabilityZone=…');
  }
  return { vpcId, subnetId, availabilityZone };
}

function appEnv(): Record<string, string> | undefined {
  const raw = context('appEnv');
  if (!raw) return undefined;
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`appEnv must be a JSON object of strings, e.g. '{"SYMBOLS":"AAPL,MSFT"}', got ${raw}`);
  }
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
}

const hostedZoneId = context('hostedZoneId');
const zoneName = context('hostedZoneName');
const rootVolume = context('rootVolumeGiB');

new StockstreamerStack(app, context('stackName') ?? 'Stockstreamer', {
  description: 'stockstreamer: one EC2 box with Caddy, the API, the workers, PostgreSQL and Redis',
  domain: context('domain'),
  acmeEmail: context('email'),
  hostedZone: hostedZoneId && zoneName ? { hostedZoneId, zoneName } : undefined,
  adminCidr: context('adminCidr'),
  keyPairName: context('keyPair'),
  instanceType: context('instanceType'),
  amiId: context('amiId'),
  rootVolumeGiB: rootVolume ? Number(rootVolume) : undefined,
  existingNetwork: existingNetwork(),
  appEnv: appEnv(),
});
