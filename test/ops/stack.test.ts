import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEBIAN_13_AMI_PARAMETER,
  PRIVATE_PORTS,
  StockstreamerStack,
  type StockstreamerStackProps,
} from '../../ops/cdk/stockstreamer-stack.ts';

// Most stacks ship a tiny stand-in tree; one test ships the real repository and looks inside the bundle.
// Made at load time: the describe blocks below synthesize while vitest collects them, before any hook.
const fixture = mkdtempSync(path.join(tmpdir(), 'stockstreamer-cdk-'));
mkdirSync(path.join(fixture, 'ops'));
writeFileSync(path.join(fixture, 'ops', 'install.sh'), '#!/usr/bin/env bash\n');
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

function synth(props: StockstreamerStackProps = {}) {
  const app = new App();
  const stack = new StockstreamerStack(app, 'Test', { sourceDir: fixture, ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

interface IngressRule {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  CidrIpv6?: string;
}

/** Every ingress rule in the template, inline in a security group or as a separate resource. */
function ingressRules(template: Template): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const group of Object.values(template.findResources('AWS::EC2::SecurityGroup'))) {
    rules.push(...((group.Properties?.SecurityGroupIngress as IngressRule[] | undefined) ?? []));
  }
  for (const rule of Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))) {
    rules.push(rule.Properties as IngressRule);
  }
  return rules;
}

const fromAnywhere = (rule: IngressRule) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0';
const covers = (rule: IngressRule, port: number) =>
  rule.IpProtocol === '-1' || ((rule.FromPort ?? 0) <= port && port <= (rule.ToPort ?? 65535));

function userData(template: Template): string {
  const [instance] = Object.values(template.findResources('AWS::EC2::Instance'));
  return JSON.stringify(instance?.Properties?.UserData);
}

describe('the EC2 stack (SSM access, self-signed HTTPS: the defaults)', () => {
  const { app, stack, template } = synth();

  it('synthesizes offline: no context lookups are pending', () => {
    const assembly = app.synth();
    expect(assembly.manifest.missing ?? []).toEqual([]);
    expect(assembly.getStackArtifact(stack.artifactId).template).toBeDefined();
  });

  it('opens no private port (22, 5432, 6379, the app) to 0.0.0.0/0 or ::/0', () => {
    const open = ingressRules(template).filter(fromAnywhere);
    expect(open.length).toBeGreaterThan(0);
    for (const port of PRIVATE_PORTS) {
      expect(
        open.filter((rule) => covers(rule, port)),
        `port ${port}`,
      ).toEqual([]);
    }
  });

  it('opens exactly 80 and 443 to the world, and no port 22 at all without an admin CIDR', () => {
    const rules = ingressRules(template);
    expect(rules.map((rule) => [rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIp]).sort()).toEqual([
      ['tcp', 443, 443, '0.0.0.0/0'],
      ['tcp', 80, 80, '0.0.0.0/0'],
    ]);
    expect(rules.filter((rule) => covers(rule, 22))).toEqual([]);
  });

  it('gives the instance role SSM Session Manager instead', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.arrayWith([
        Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])]),
        }),
      ]),
    });
    expect(userData(template)).toContain('amazon-ssm-agent');
  });

  it('requires IMDSv2 tokens, with a hop limit of 1', () => {
    template.hasResourceProperties('AWS::EC2::Instance', {
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    });
  });

  it('boots from an encrypted gp3 root volume on the AMI root device', () => {
    const [instance] = Object.values(template.findResources('AWS::EC2::Instance'));
    const mappings = instance?.Properties?.BlockDeviceMappings as { DeviceName: string; Ebs: object }[];
    expect(mappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 20, VolumeType: 'gp3' },
      },
    ]);
    template.resourceCountIs('AWS::EC2::Volume', 0);
  });

  it("uses Debian 13 from Debian's public SSM parameter, resolved at deploy time", () => {
    const parameters = template.findParameters('*', {
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
    });
    expect(Object.values(parameters).map((parameter) => parameter.Default)).toEqual([
      DEBIAN_13_AMI_PARAMETER.amd64,
    ]);
    const [name] = Object.keys(parameters);
    template.hasResourceProperties('AWS::EC2::Instance', {
      ImageId: { Ref: name },
      InstanceType: 't3.small',
    });
  });

  it('attaches the Elastic IP to the instance', () => {
    template.resourceCountIs('AWS::EC2::EIP', 1);
    const [eipId] = Object.keys(template.findResources('AWS::EC2::EIP'));
    const [instanceId] = Object.keys(template.findResources('AWS::EC2::Instance'));
    template.hasResourceProperties('AWS::EC2::EIPAssociation', {
      AllocationId: { 'Fn::GetAtt': [eipId, 'AllocationId'] },
      InstanceId: { Ref: instanceId },
    });
  });

  it('outputs the public IP and the HTTPS URL on it', () => {
    const [eipId] = Object.keys(template.findResources('AWS::EC2::EIP'));
    template.hasOutput('PublicIp', { Value: { 'Fn::GetAtt': [eipId, 'PublicIp'] } });
    template.hasOutput('Url', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [eipId, 'PublicIp'] }, '/']] },
    });
    template.hasOutput('Connect', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    template.hasOutput('InstanceId', Match.anyValue());
  });

  it('waits for the box to report a healthy install, and lets it report', () => {
    template.hasResource('AWS::EC2::Instance', {
      CreationPolicy: { ResourceSignal: { Timeout: 'PT30M' } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'cloudformation:SignalResource', Resource: { Ref: 'AWS::StackId' } }),
        ]),
      },
    });
  });

  it('runs ops/install.sh from the source bundle, self-signed on the Elastic IP, and again on new user data', () => {
    const script = userData(template);
    expect(script).toContain('bash \\"$WORK/ops/install.sh\\" --public-ip');
    expect(script).toContain('signal SUCCESS');
    expect(script).toContain('systemctl enable --quiet stockstreamer-bootstrap.service');
  });

  it('names the source bundle by content, so new code means new user data (and an upgrade)', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'stockstreamer-cdk-'));
    try {
      mkdirSync(path.join(other, 'ops'));
      writeFileSync(path.join(other, 'ops', 'install.sh'), '#!/usr/bin/env bash\n# a newer release\n');
      const changed = synth({ sourceDir: other }).template;
      expect(userData(changed)).not.toEqual(userData(template));
      expect(userData(synth().template)).toEqual(userData(template));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('gets a public address at launch (the first boot downloads before the Elastic IP is attached)', () => {
    template.hasResourceProperties('AWS::EC2::Instance', {
      NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true, DeviceIndex: '0' })],
    });
  });
});

describe('the EC2 stack with options', () => {
  it('opens SSH to the admin CIDR only, and drops SSM', () => {
    const { template } = synth({ adminCidr: '203.0.113.7/32', keyPairName: 'me' });
    const ssh = ingressRules(template).filter((rule) => covers(rule, 22));
    expect(ssh).toEqual([expect.objectContaining({ CidrIp: '203.0.113.7/32', FromPort: 22, ToPort: 22 })]);
    expect(
      ingressRules(template)
        .filter(fromAnywhere)
        .filter((rule) => covers(rule, 22)),
    ).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('AmazonSSMManagedInstanceCore');
    template.hasResourceProperties('AWS::EC2::Instance', { KeyName: 'me' });
  });

  it.each(['0.0.0.0/0', '::/0', '10.0.0.0/0', 'anywhere', '203.0.113.7/33'])(
    'refuses adminCidr %s',
    (adminCidr) => {
      expect(() => synth({ adminCidr })).toThrow(/adminCidr/);
    },
  );

  it('takes a domain, an ACME email and a Route 53 record for it', () => {
    const { template } = synth({
      domain: 'dash.example.com',
      acmeEmail: 'ops@example.com',
      hostedZone: { hostedZoneId: 'Z123', zoneName: 'example.com' },
    });
    template.hasOutput('Url', { Value: 'https://dash.example.com/' });
    const [eipId] = Object.keys(template.findResources('AWS::EC2::EIP'));
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'dash.example.com.',
      Type: 'A',
      HostedZoneId: 'Z123',
      ResourceRecords: [{ 'Fn::GetAtt': [eipId, 'PublicIp'] }],
    });
    expect(userData(template)).toContain('--domain dash.example.com --email ops@example.com');
  });

  it('refuses a domain that is not a DNS name', () => {
    expect(() => synth({ domain: 'dash example.com' })).toThrow(/domain/);
    expect(() => synth({ domain: 'x.com; rm -rf /' })).toThrow(/domain/);
  });

  it('picks the arm64 image for Graviton instance types', () => {
    const { template } = synth({ instanceType: 't4g.small' });
    const parameters = template.findParameters('*', {
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
    });
    expect(Object.values(parameters).map((parameter) => parameter.Default)).toEqual([
      DEBIAN_13_AMI_PARAMETER.arm64,
    ]);
    template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't4g.small' });
  });

  it('keeps a pinned image, so that a newer Debian image never replaces the box and its data', () => {
    const { template } = synth({ amiId: 'ami-0123456789abcdef0' });
    template.hasResourceProperties('AWS::EC2::Instance', { ImageId: 'ami-0123456789abcdef0' });
    expect(
      Object.keys(template.findParameters('*', { Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>' })),
    ).toEqual([]);
    template.hasOutput('ImageId', { Value: 'ami-0123456789abcdef0' });
    expect(() => synth({ amiId: 'debian-13' })).toThrow(/amiId/);
  });

  it('uses an existing VPC and subnet (e.g. the default VPC) without creating one', () => {
    const { template } = synth({
      existingNetwork: { vpcId: 'vpc-0abc', subnetId: 'subnet-0def', availabilityZone: 'eu-west-1a' },
    });
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::EC2::Instance', {
      AvailabilityZone: 'eu-west-1a',
      NetworkInterfaces: [Match.objectLike({ SubnetId: 'subnet-0def' })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0abc' });
  });

  it('passes app settings to install.sh quoted for the shell', () => {
    const { template } = synth({ appEnv: { SYMBOLS: 'AAPL,MSFT', GREETING: "it's $HOME" } });
    const script = userData(template);
    expect(script).toContain('--set SYMBOLS=AAPL,MSFT');
    expect(script).toContain(`--set 'GREETING=it'\\\\''s $HOME'`);
    expect(() => synth({ appEnv: { 'bad-name': 'x' } })).toThrow(/appEnv/);
  });
});

describe('the source bundle shipped to the box', () => {
  it('holds the checkout without node_modules, build output, local state or the ops test root', () => {
    const app = new App();
    const stack = new StockstreamerStack(app, 'Bundle');
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const bundle = path.join(assembly.directory, assets[0]!);
    const top = readdirSync(bundle);
    expect(top).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'ops', 'src', 'drizzle']),
    );
    for (const excluded of ['node_modules', '.data', 'dist', '.git', 'test-results']) {
      expect(top, excluded).not.toContain(excluded);
    }
    expect(readdirSync(path.join(bundle, 'ops'))).toEqual(
      expect.arrayContaining(['install.sh', 'restore.sh']),
    );
    expect(stack.stackName).toBe('Bundle');
  }, 60_000);
});
