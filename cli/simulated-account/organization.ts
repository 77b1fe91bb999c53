/**
 * A simulated AWS Organization: accounts in a tree of OUs, one `SimulatedAccount` per account
 * and region (so each target has its own state and its own EC2 token buckets), IAM roles whose
 * trust STS AssumeRole checks, and the Organizations list calls the hub resolves OUs with.
 *
 * `attach(client)` routes like AWS does: by the access key that signed the request (which
 * principal, in which account) and the region in its credential scope. The single-account API is
 * untouched: `organization.defaultAccount` is an ordinary `SimulatedAccount` (the management
 * account in the default region), and `new SimulatedAccount()` alone still works as before.
 */

import type { DeserializeHandlerOutput, DeserializeMiddleware, Pluggable } from '@smithy/types';
import {
  type AttachableClient,
  type CallRecord,
  EC2_RATE_LIMITS,
  type RateLimit,
  SimulatedAccount,
} from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { IdGenerator } from './ids.ts';
import { createOrganizationServiceHandlers } from './organization-services.ts';
import { answer, toSdkError } from './sdk-errors.ts';
import type { SimImage, SimInstance } from './state.ts';
import { SimulatedUsageReports } from './usage-reports.ts';

export interface SimulatedOrganizationOptions {
  /** Default `ami-cleaner`. Each account and region derives its own seed from it. */
  readonly seed?: string;
  readonly clock?: () => Date;
  /** An existing account to adopt as the management account in its region. Default: a new one. */
  readonly defaultAccount?: SimulatedAccount;
  /** Default `o-` + 10 seeded characters. */
  readonly organizationId?: string;
}

export interface SimOrganizationalUnit {
  readonly id: string;
  readonly name: string;
  readonly parentId: string;
  readonly arn: string;
}

export interface SimMemberAccount {
  readonly accountId: string;
  readonly name: string;
  readonly parentId: string;
  state: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
}

/** A role's trust, in the member role construct's own terms (`MemberRoleTrust` in infra/member-role.ts). */
export interface SimRoleTrust {
  readonly hubAccountId: string;
  /** `aws:PrincipalArn` patterns (`ArnLike`: `*` and `?` within each ARN component). */
  readonly hubPrincipalArns: readonly string[];
}

export interface SimRole {
  readonly arn: string;
  readonly accountId: string;
  readonly roleName: string;
  readonly trust: SimRoleTrust;
}

/** Who signed a request: a principal's long-lived key, or an AssumeRole session. */
export interface SimSession {
  readonly accountId: string;
  /** What `aws:PrincipalArn` is for this caller: the role ARN for an assumed-role session. */
  readonly principalArn: string;
  /** What GetCallerIdentity reports. */
  readonly callerArn: string;
  readonly expiresAt?: Date;
}

export interface SimCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/[^/]+\/aws4_request/;

/** IAM `ArnLike`: each of the six components matched on its own, `*` and `?` as wildcards. */
export function arnLike(pattern: string, arn: string): boolean {
  const split = (text: string) => {
    const parts = text.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const [patternParts, arnParts] = [split(pattern), split(arn)];
  if (patternParts.length !== 6 || arnParts.length !== 6) return false;
  return patternParts.every((part, index) => {
    const regex = part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${regex}$`).test(arnParts[index] as string);
  });
}

export class SimulatedOrganization {
  readonly organizationId: string;
  readonly rootId: string;
  readonly managementAccountId: string;
  readonly defaultRegion: string;
  readonly defaultAccount: SimulatedAccount;
  readonly now: () => Date;
  /** STS and Organizations requests, oldest first, with the region they were signed for (other services log in each account). */
  readonly calls: (CallRecord & { readonly region: string })[] = [];

  readonly organizationalUnits = new Map<string, SimOrganizationalUnit>();
  readonly accounts = new Map<string, SimMemberAccount>();
  readonly roles = new Map<string, SimRole>();
  /** Image usage reports of every account (delay, never-complete and failure knobs). */
  readonly usageReports: SimulatedUsageReports;
  /** OUs whose listing answers AccessDeniedException (a fault knob: "an OU that cannot be listed"). */
  readonly deniedParents = new Set<string>();

  private readonly seed: string;
  private readonly ids: IdGenerator;
  private readonly regional = new Map<string, SimulatedAccount>();
  private readonly sessions = new Map<string, SimSession>();
  private readonly rateLimits = new Map<string, RateLimit>();
  private readonly handlers: ReturnType<typeof createOrganizationServiceHandlers>;

  constructor(options: SimulatedOrganizationOptions = {}) {
    this.seed = options.seed ?? 'ami-cleaner';
    this.now = options.clock ?? (() => new Date());
    this.ids = new IdGenerator(`organization:${this.seed}`);
    this.defaultAccount =
      options.defaultAccount ?? new SimulatedAccount({ seed: this.seed, clock: this.now });
    this.managementAccountId = this.defaultAccount.accountId;
    this.defaultRegion = this.defaultAccount.region;
    this.regional.set(`${this.managementAccountId}-${this.defaultRegion}`, this.defaultAccount);
    this.defaultAccount.imagesSharedWithAccount = () =>
      this.imagesLaunchableBy(this.managementAccountId, this.defaultRegion);
    this.usageReports = new SimulatedUsageReports(this);
    this.defaultAccount.usageReports = this.usageReports;
    this.organizationId = options.organizationId ?? `o-${this.ids.next('x', 10).slice(2)}`;
    this.rootId = `r-${this.ids.next('x', 4).slice(2)}`;
    this.accounts.set(this.managementAccountId, {
      accountId: this.managementAccountId,
      name: 'management',
      parentId: this.rootId,
      state: 'ACTIVE',
    });
    this.handlers = createOrganizationServiceHandlers(this);
  }

  get arn(): string {
    return `arn:aws:organizations::${this.managementAccountId}:organization/${this.organizationId}`;
  }

  // -------------------------------------------------------------------------------------------
  // The tree
  // -------------------------------------------------------------------------------------------

  addOrganizationalUnit(name: string, parentId: string = this.rootId): SimOrganizationalUnit {
    this.requireParent(parentId);
    const suffix = this.rootId.slice(2);
    const id = `ou-${suffix}-${this.ids.next('x', 8).slice(2)}`;
    const ou = {
      id,
      name,
      parentId,
      arn: `arn:aws:organizations::${this.managementAccountId}:ou/${this.organizationId}/${id}`,
    };
    this.organizationalUnits.set(id, ou);
    return ou;
  }

  addAccount(input: {
    readonly accountId: string;
    readonly name: string;
    readonly parentId?: string;
    readonly state?: SimMemberAccount['state'];
  }): SimMemberAccount {
    if (!/^[0-9]{12}$/.test(input.accountId)) throw new Error(`Not an account id: ${input.accountId}`);
    if (this.accounts.has(input.accountId)) throw new Error(`Account ${input.accountId} exists`);
    const parentId = input.parentId ?? this.rootId;
    this.requireParent(parentId);
    const account = {
      accountId: input.accountId,
      name: input.name,
      parentId,
      state: input.state ?? 'ACTIVE',
    };
    this.accounts.set(input.accountId, account);
    return account;
  }

  /**
   * The account is closed (a fault knob: "a target that disappears"): Organizations lists it
   * SUSPENDED, every session in it ends and its roles can no longer be assumed.
   */
  closeAccount(accountId: string): void {
    const account = this.accounts.get(accountId);
    if (account === undefined) throw new Error(`Account ${accountId} is not in the organization`);
    account.state = 'SUSPENDED';
    this.revokeSessions(accountId);
  }

  /** MoveAccount: the account now sits under `parentId` (an OU or the root). */
  moveAccount(accountId: string, parentId: string): void {
    const account = this.accounts.get(accountId);
    if (account === undefined) throw new Error(`Account ${accountId} is not in the organization`);
    this.requireParent(parentId);
    this.accounts.set(accountId, { ...account, parentId });
  }

  /** The OU and every ancestor of an account, nearest first, ending at the root. */
  ancestorsOf(accountId: string): string[] {
    const chain: string[] = [];
    let parentId = this.accounts.get(accountId)?.parentId;
    while (parentId !== undefined) {
      chain.push(parentId);
      parentId = this.organizationalUnits.get(parentId)?.parentId;
    }
    return chain;
  }

  /** One account in one region: its own images, references, call log and token buckets. */
  account(accountId: string, region: string = this.defaultRegion): SimulatedAccount {
    if (!this.accounts.has(accountId)) throw new Error(`Account ${accountId} is not in the organization`);
    const key = `${accountId}-${region}`;
    let account = this.regional.get(key);
    if (account === undefined) {
      account = new SimulatedAccount({ accountId, region, seed: `${this.seed}:${key}`, clock: this.now });
      for (const [command, limit] of this.rateLimits) account.setRateLimit(command, limit);
      account.imagesSharedWithAccount = () => this.imagesLaunchableBy(accountId, region);
      account.usageReports = this.usageReports;
      this.regional.set(key, account);
    }
    return account;
  }

  /** Every account × region created so far. */
  regionalAccounts(): SimulatedAccount[] {
    return [...this.regional.values()];
  }

  /** EC2's token buckets (MISSION.md) in every account and region, each bucket its own. */
  useEc2RateLimits(): void {
    for (const [command, limit] of Object.entries(EC2_RATE_LIMITS)) {
      this.rateLimits.set(command, limit);
      for (const account of this.regional.values()) account.setRateLimit(command, limit);
    }
  }

  // -------------------------------------------------------------------------------------------
  // IAM and STS
  // -------------------------------------------------------------------------------------------

  /** Creates a role (the member role, as the StackSet would) that records whom it trusts. */
  addRole(accountId: string, roleName: string, trust: SimRoleTrust): SimRole {
    if (!this.accounts.has(accountId)) throw new Error(`Account ${accountId} is not in the organization`);
    const role = { arn: `arn:aws:iam::${accountId}:role/${roleName}`, accountId, roleName, trust };
    this.roles.set(role.arn, role);
    return role;
  }

  /**
   * Long-lived credentials for a principal of a member account, e.g. a hub function's role as
   * Lambda would hand it over. Requests signed with them act as that principal.
   */
  credentialsFor(principalArn: string): SimCredentials {
    const accountId = /^arn:aws[a-z-]*:(?:iam|sts)::([0-9]{12}):/.exec(principalArn)?.[1];
    if (accountId === undefined || !this.accounts.has(accountId)) {
      throw new Error(`${principalArn} is not a principal of an account in the organization`);
    }
    const accessKeyId = `AKIA${this.ids.next('x', 16).slice(2).toUpperCase()}`;
    this.sessions.set(accessKeyId, { accountId, principalArn, callerArn: principalArn });
    return { accessKeyId, secretAccessKey: 'simulated-secret' };
  }

  /** STS AssumeRole: the role must exist in an ACTIVE account and trust the caller, or AccessDenied (as AWS says it). */
  assumeRole(
    caller: SimSession,
    roleArn: string,
    sessionName: string,
    durationSeconds: number,
  ): SimCredentials & { expiration: Date; assumedRoleArn: string } {
    const role = this.roles.get(roleArn);
    const trusted =
      role !== undefined &&
      this.accounts.get(role.accountId)?.state === 'ACTIVE' &&
      role.trust.hubAccountId === caller.accountId &&
      role.trust.hubPrincipalArns.some((pattern) => arnLike(pattern, caller.principalArn));
    if (!trusted) {
      throw new SimulatedAwsError(
        'AccessDenied',
        `User: ${caller.callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    }
    const accessKeyId = `ASIA${this.ids.next('x', 16).slice(2).toUpperCase()}`;
    const expiration = new Date(this.now().getTime() + durationSeconds * 1000);
    const assumedRoleArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`;
    this.sessions.set(accessKeyId, {
      accountId: role.accountId,
      principalArn: role.arn,
      callerArn: assumedRoleArn,
      expiresAt: expiration,
    });
    return {
      accessKeyId,
      secretAccessKey: 'simulated-secret',
      sessionToken: `simulated-session-${accessKeyId}`,
      expiration,
      assumedRoleArn,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Shared AMIs
  // -------------------------------------------------------------------------------------------

  /** True when `accountId` may launch the image: its owner, or a launch permission naming it, an OU above it, the organization, or everyone. */
  canLaunch(image: SimImage, accountId: string): boolean {
    if (image.ownerId === accountId) return true;
    const ancestors = new Set(this.ancestorsOf(accountId).map((id) => this.organizationalUnits.get(id)?.arn));
    return image.launchPermissions.some((permission) => {
      if ('group' in permission) return permission.group === 'all';
      if ('userId' in permission) return permission.userId === accountId;
      if ('organizationArn' in permission)
        return permission.organizationArn === this.arn && this.accounts.has(accountId);
      return ancestors.has(permission.organizationalUnitArn);
    });
  }

  /** Images of other accounts in this region that `accountId` may launch (what EC2 lists as executable by it). */
  imagesLaunchableBy(accountId: string, region: string): SimImage[] {
    return this.regionalAccounts()
      .filter((account) => account.region === region && account.accountId !== accountId)
      .flatMap((account) => [...account.images.values()])
      .filter((image) => this.canLaunch(image, accountId));
  }

  /** Runs an instance in `accountId` from any image it may launch in that region (RunInstances' permission check). */
  launchInstance(accountId: string, region: string, imageId: string, launchTime: string | Date): SimInstance {
    const image = this.regionalAccounts()
      .filter((account) => account.region === region)
      .map((account) => account.images.get(imageId))
      .find((found) => found !== undefined);
    if (image === undefined || !this.canLaunch(image, accountId)) {
      throw new SimulatedAwsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    }
    return this.account(accountId, region).addInstance({ imageId, launchTime });
  }

  // -------------------------------------------------------------------------------------------
  // Wiring
  // -------------------------------------------------------------------------------------------

  /** Routes the client's requests by their signature; `as` sets the identity it signs with. */
  attach<C extends AttachableClient>(client: C, as?: SimCredentials): C {
    client.middlewareStack.remove('simulatedAccount');
    client.middlewareStack.add(this.middleware(), {
      step: 'deserialize',
      name: 'simulatedAccount',
      priority: 'high',
      tags: ['SIMULATED_ORGANIZATION'],
    });
    if (as !== undefined) Object.assign(client.config, { credentials: async () => as });
    return client;
  }

  /** The same routing as a plugin, for clients built elsewhere (fromTemporaryCredentials' `clientPlugins`). */
  plugin(): Pluggable<object, object> {
    return {
      applyToStack: (stack) => {
        stack.remove('simulatedAccount');
        stack.add(this.middleware(), { step: 'deserialize', name: 'simulatedAccount', priority: 'high' });
      },
    };
  }

  private middleware(): DeserializeMiddleware<object, object> {
    return (_next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      const authorization =
        Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ??
        '';
      const [, accessKeyId = '', region = this.defaultRegion] = SCOPE.exec(authorization) ?? [];
      const serviceId = (context as { clientName?: string }).clientName?.replace(/Client$/, '') ?? '';
      const command = (context.commandName ?? '').replace(/Command$/, '');
      return this.route(
        serviceIdOf(serviceId),
        command,
        args.input as Record<string, unknown>,
        accessKeyId,
        region,
      );
    };
  }

  /**
   * Every assumed-role session in `accountId` ends now (the account was closed, or its role
   * changed): the next call with one is refused with ExpiredToken, as STS credentials of a
   * revoked session are.
   */
  revokeSessions(accountId: string): void {
    for (const [key, session] of this.sessions)
      if (session.accountId === accountId && session.expiresAt !== undefined)
        this.sessions.set(key, { ...session, expiresAt: new Date(0) });
  }

  private async route(
    serviceId: string,
    command: string,
    input: Record<string, unknown>,
    accessKeyId: string,
    region: string,
  ): Promise<DeserializeHandlerOutput<object>> {
    const requestId = this.ids.uuid();
    const session = this.sessions.get(accessKeyId);
    const expired = session?.expiresAt !== undefined && session.expiresAt.getTime() <= this.now().getTime();
    if (session === undefined || expired) {
      const code = expired ? 'ExpiredToken' : serviceId === 'EC2' ? 'AuthFailure' : 'InvalidClientTokenId';
      throw toSdkError(
        serviceId,
        new SimulatedAwsError(code, 'The security token included in the request is invalid.', 403),
        requestId,
      );
    }
    const own = this.handlers[serviceId]?.[command];
    if (own === undefined) return this.account(session.accountId, region).handle(serviceId, command, input);
    const record: CallRecord & { region: string } = {
      service: serviceId,
      command,
      input: { ...input },
      region,
    };
    this.calls.push(record);
    return answer(serviceId, requestId, record, () => own(input, session));
  }

  private requireParent(parentId: string): void {
    if (parentId !== this.rootId && !this.organizationalUnits.has(parentId)) {
      throw new Error(`No OU or root ${parentId}`);
    }
  }
}

/** Client names (`EC2Client`, `AutoScalingClient`) to the service ids the handlers are keyed by. */
function serviceIdOf(clientName: string): string {
  const ids: Record<string, string> = {
    AutoScaling: 'Auto Scaling',
    SecretsManager: 'Secrets Manager',
    Imagebuilder: 'imagebuilder',
  };
  return ids[clientName] ?? clientName;
}
