import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Duration, IgnoreMode, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { renderBootstrapScript } from './bootstrap-script.ts';

/** The repository root: what is shipped to the box and installed there by ops/install.sh. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Debian's cloud team publishes the id of its newest Debian 13 image in every region as a public SSM
 * parameter. Resolved by CloudFormation at deploy time, so synthesis needs no AWS account and no lookup.
 */
export const DEBIAN_13_AMI_PARAMETER = {
  amd64: '/aws/service/debian/release/13/latest/amd64',
  arm64: '/aws/service/debian/release/13/latest/arm64',
} as const;

/** Debian's AMIs boot from /dev/xvda; a mapping under another name would add a second disk instead. */
export const DEBIAN_ROOT_DEVICE = '/dev/xvda';

/** What the upload of the source tree leaves out: local state, build output and the ops test's chroot. */
export const SOURCE_EXCLUDES = [
  '.git',
  'node_modules',
  'dist',
  '.data',
  'test-results',
  'cdk.out',
  '*.log',
  '.env',
];

/** Ports that must never be reachable from the internet: SSH, PostgreSQL, Redis, the app behind Caddy. */
export const PRIVATE_PORTS = [22, 5432, 6379, 4000] as const;

export interface ExistingNetwork {
  vpcId: string;
  /** A public subnet of that VPC (the default VPC's subnets all are). */
  subnetId: string;
  /** The subnet's availability zone, e.g. `eu-west-1a`. */
  availabilityZone: string;
}

export interface StockstreamerStackProps extends StackProps {
  /**
   * DNS name of the dashboard. Caddy gets a Let's Encrypt certificate for it once the name points at the
   * Elastic IP. Unset: HTTPS on the Elastic IP with a certificate from Caddy's own local CA (self-signed).
   */
  domain?: string;
  /** Address Let's Encrypt writes to about expiring certificates (optional). */
  acmeEmail?: string;
  /** A Route 53 hosted zone to create the `domain` A record in. Unset: create the record yourself. */
  hostedZone?: { hostedZoneId: string; zoneName: string };
  /**
   * The only network allowed to reach port 22. Unset: no port 22 at all; reach the box through SSM
   * Session Manager (the instance role gets the permissions and the agent is installed at first boot).
   */
  adminCidr?: string;
  /** An existing EC2 key pair for SSH (only with `adminCidr`). */
  keyPairName?: string;
  /** EC2 instance type; Graviton types (t4g, m7g, …) get the arm64 image. Default t3.small (2 GiB). */
  instanceType?: string;
  /**
   * Pin the image (an `ami-…` id). Unset: the newest Debian 13 image, looked up from Debian's public SSM
   * parameter by CloudFormation at every deploy; as a new image replaces the instance (and the data on
   * it), ops/deploy.sh pins the image it first got.
   */
  amiId?: string;
  /** Root volume size in GiB (gp3, encrypted). Default 20. */
  rootVolumeGiB?: number;
  /** Use this VPC and subnet (e.g. the account's default VPC) instead of creating a small one. */
  existingNetwork?: ExistingNetwork;
  /**
   * Extra variables for the app's env file on the box (SYMBOLS, PRICE_INTERVAL_MS, …). They travel in
   * the instance's user data, which is not secret: put API keys in the env file on the box instead.
   */
  appEnv?: Record<string, string>;
  /** Directory shipped to the box. Default: this repository. */
  sourceDir?: string;
}

const HOSTNAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** One image id, whatever the region: the one this deployment already runs on. */
function pinnedImage(imageId: string): ec2.IMachineImage {
  return {
    getImage: () => ({ imageId, osType: ec2.OperatingSystemType.LINUX, userData: ec2.UserData.forLinux() }),
  };
}

/** Refuses CIDRs that would open SSH to everyone, with a message that says what to pass instead. */
export function checkAdminCidr(cidr: string): string {
  const match = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) throw new Error(`adminCidr must look like 203.0.113.7/32, got ${JSON.stringify(cidr)}`);
  const [, address, bits] = match;
  const ipv6 = address!.includes(':');
  const prefix = Number(bits);
  if (prefix > (ipv6 ? 128 : 32)) throw new Error(`adminCidr has an impossible prefix: ${cidr}`);
  if (prefix === 0) {
    throw new Error(
      `adminCidr ${cidr} would open SSH to the whole internet; pass your own address as a /32 (e.g. 203.0.113.7/32), or leave it unset to use SSM Session Manager`,
    );
  }
  return cidr.trim();
}

/**
 * One hardened EC2 box running the whole of stockstreamer: Caddy on 80/443 in front of the API, the
 * workers, PostgreSQL and Redis on loopback, all installed by ops/install.sh from Debian's own archive.
 */
export class StockstreamerStack extends Stack {
  readonly instance: ec2.Instance;
  readonly elasticIp: ec2.CfnEIP;

  constructor(scope: Construct, id: string, props: StockstreamerStackProps = {}) {
    super(scope, id, props);

    if (props.domain !== undefined && !HOSTNAME.test(props.domain)) {
      throw new Error(`domain must be a DNS name like dash.example.com, got ${JSON.stringify(props.domain)}`);
    }
    if (props.hostedZone && !props.domain)
      throw new Error('hostedZone needs a domain to create a record for');
    if (props.keyPairName && !props.adminCidr) {
      throw new Error('keyPairName is for SSH, which needs adminCidr; without it use SSM Session Manager');
    }
    for (const key of Object.keys(props.appEnv ?? {})) {
      if (!ENV_NAME.test(key)) throw new Error(`appEnv key ${JSON.stringify(key)} is not an env var name`);
    }
    const adminCidr = props.adminCidr === undefined ? undefined : checkAdminCidr(props.adminCidr);
    const instanceType = new ec2.InstanceType(props.instanceType ?? 't3.small');
    const arm = instanceType.architecture === ec2.InstanceArchitecture.ARM_64;

    if (props.amiId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(props.amiId)) {
      throw new Error(`amiId must look like ami-0123456789abcdef0, got ${JSON.stringify(props.amiId)}`);
    }
    const machineImage: ec2.IMachineImage = props.amiId
      ? pinnedImage(props.amiId)
      : ec2.MachineImage.fromSsmParameter(
          arm ? DEBIAN_13_AMI_PARAMETER.arm64 : DEBIAN_13_AMI_PARAMETER.amd64,
          {
            os: ec2.OperatingSystemType.LINUX,
          },
        );

    const { vpc, vpcSubnets } = this.network(props.existingNetwork);

    const securityGroup = new ec2.SecurityGroup(this, 'WebSecurityGroup', {
      vpc,
      description: 'stockstreamer: HTTP and HTTPS from anywhere; SSH only from the admin CIDR, if any',
      allowAllOutbound: true, // Debian's archive, the npm registry, Let's Encrypt, S3, CloudFormation
    });
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP (redirects to HTTPS, ACME)');
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS dashboard');
    if (adminCidr) {
      const peer = adminCidr.includes(':') ? ec2.Peer.ipv6(adminCidr) : ec2.Peer.ipv4(adminCidr);
      securityGroup.addIngressRule(peer, ec2.Port.tcp(22), 'SSH from the admin network only');
    }

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'stockstreamer box: read its source bundle, signal CloudFormation, SSM sessions',
    });

    const source = new Asset(this, 'Source', {
      path: props.sourceDir ?? REPO_ROOT,
      exclude: SOURCE_EXCLUDES,
      ignoreMode: IgnoreMode.GIT,
    });
    source.grantRead(role);

    // Created before the instance so that the install script can put the address in the certificate of
    // the self-signed fallback; associated after the install has signalled success.
    this.elasticIp = new ec2.CfnEIP(this, 'ElasticIp', {
      domain: 'vpc',
      tags: [{ key: 'Name', value: `${id}-dashboard` }],
    });

    // Rendered below, once the instance's logical id (which the script signals) is known.
    const userData = ec2.UserData.forLinux();
    this.instance = new ec2.Instance(this, 'Box', {
      vpc,
      vpcSubnets,
      instanceType,
      machineImage,
      securityGroup,
      role,
      userData,
      // Needed for the first boot's downloads: the Elastic IP is only attached once the install succeeds.
      associatePublicIpAddress: true,
      keyPair: props.keyPairName
        ? ec2.KeyPair.fromKeyPairName(this, 'KeyPair', props.keyPairName)
        : undefined,
      blockDevices: [
        {
          deviceName: DEBIAN_ROOT_DEVICE,
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 20, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
      // IMDSv2 only, one hop: a process in a container or behind an SSRF cannot read the role's keys.
      httpEndpoint: true,
      httpTokens: ec2.HttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      ssmSessionPermissions: adminCidr === undefined,
      // `cdk deploy` waits until the box reports that the dashboard answers (or that the install failed).
      resourceSignalTimeout: Duration.minutes(30),
      propagateTagsToVolumeOnCreation: true,
    });
    const cfnInstance = this.instance.node.defaultChild as ec2.CfnInstance;

    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudformation:SignalResource'],
        resources: [this.stackId],
      }),
    );

    const address = this.elasticIp.attrPublicIp;
    const installArgs = [
      ...(props.domain ? ['--domain', props.domain] : ['--public-ip', address]),
      ...(props.acmeEmail ? ['--email', props.acmeEmail] : []),
      ...Object.entries(props.appEnv ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
    ];
    userData.addCommands(
      renderBootstrapScript({
        bucket: source.s3BucketName,
        key: source.s3ObjectKey,
        release: source.assetHash,
        region: Aws.REGION,
        stackName: Aws.STACK_NAME,
        logicalId: this.getLogicalId(cfnInstance),
        installArgs,
        installSsmAgent: adminCidr === undefined,
        architecture: arm ? 'arm64' : 'amd64',
      }),
    );

    new ec2.CfnEIPAssociation(this, 'ElasticIpAssociation', {
      allocationId: this.elasticIp.attrAllocationId,
      instanceId: this.instance.instanceId,
    });

    if (props.hostedZone && props.domain) {
      new route53.ARecord(this, 'DnsRecord', {
        zone: route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', props.hostedZone),
        recordName: props.domain,
        target: route53.RecordTarget.fromIpAddresses(address),
        ttl: Duration.minutes(5),
      });
    }

    Tags.of(this).add('app', 'stockstreamer');

    new CfnOutput(this, 'PublicIp', { value: address, description: 'Elastic IP of the box' });
    new CfnOutput(this, 'Url', {
      value: props.domain ? `https://${props.domain}/` : `https://${address}/`,
      description: props.domain
        ? `The dashboard (point ${props.domain} at the PublicIp first, unless hostedZone was given)`
        : 'The dashboard, behind a self-signed certificate (Caddy local CA): expect a browser warning',
    });
    new CfnOutput(this, 'InstanceId', { value: this.instance.instanceId });
    new CfnOutput(this, 'ImageId', {
      value: cfnInstance.imageId ?? '',
      description:
        'The image the box runs on; ops/deploy.sh pins it (-c amiId=…) so that no deploy replaces the box',
    });
    new CfnOutput(this, 'Connect', {
      value: adminCidr
        ? `ssh admin@${address}`
        : `aws ssm start-session --region ${Aws.REGION} --target ${this.instance.instanceId}`,
      description: 'How to get a shell on the box',
    });
  }

  private network(existing: ExistingNetwork | undefined): {
    vpc: ec2.IVpc;
    vpcSubnets: ec2.SubnetSelection;
  } {
    if (existing) {
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [existing.availabilityZone],
        publicSubnetIds: [existing.subnetId],
      });
      return { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } };
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/24'),
      maxAzs: 1,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26 }],
      // Its default security group has no members; restricting it would add a Lambda-backed resource.
      restrictDefaultSecurityGroup: false,
    });
    return { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } };
  }
}
