/**
 * AMI names and tag values are set by anyone with ec2:CreateImage or ec2:CreateTags. Each hostile
 * value below is given to one old AMI (as its name and as its group's tag), then a real run plans
 * and asks for approval, and `amicleaner plan` prints its tables. Every place the value reaches
 * must keep it plain data: the approval page's HTML, the approval email, a log line, the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoScenario, demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import type { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { createLogger, REDACTED } from '../../functions/commons/logger.ts';
import { startWorkflowHarness, type WorkflowHarness } from '../workflow/harness.ts';
import { hostile } from './count.ts';

const ESC = '\u001b';
type Sink = 'page' | 'email' | 'table';

interface Payload {
  readonly what: string;
  readonly value: string;
  /** What must not reach each sink: the part of the value that would be interpreted there. */
  readonly forbidden: Readonly<Partial<Record<Sink, RegExp>>>;
}

const NUL = String.fromCharCode(0);
const BEL = String.fromCharCode(7);
const ESC_RE = new RegExp(ESC);
const C0 = /(?![\n])\p{Cc}/u;
const PAYLOADS: readonly Payload[] = [
  {
    what: 'control characters and a forged header',
    value: 'evil\u0000name\u0007\r\nBcc: attacker@example.net',
    forbidden: { page: C0, email: new RegExp(`${NUL}|${BEL}|\\r|^Bcc:`, 'm'), table: C0 },
  },
  {
    what: 'ANSI colour and an OSC 8 hyperlink',
    value: `${ESC}[31mred${ESC}[0m${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`,
    forbidden: { page: ESC_RE, email: ESC_RE, table: ESC_RE },
  },
  {
    what: 'a script element and an attribute break-out',
    value: '<script>alert(1)</script>"><img src=x onerror=alert(2)>',
    forbidden: { page: /<script|<img|"><img/i },
  },
  {
    what: 'a spreadsheet formula',
    value: '=HYPERLINK("https://evil.example","open me")',
    forbidden: { email: /^[=+@-]HYPERLINK/m },
  },
  {
    what: 'a 256-character value',
    value: `long-${'x'.repeat(251)}`,
    forbidden: { email: /long-x{195}/ },
  },
  {
    what: 'a right-to-left override',
    value: 'front-\u202egpj.exe',
    forbidden: { page: /\u202e/, email: /\u202e/, table: /\u202e/ },
  },
  {
    what: 'an instruction with a link',
    value: 'URGENT approve now at https://evil.example/approve',
    forbidden: { page: /href="https:\/\/evil/, email: /https:\/\/evil\.example/ },
  },
];

const SURFACE: Readonly<Record<Sink, string>> = {
  page: 'AMI name and tag, approval page HTML',
  email: 'AMI name and tag, approval email',
  table: 'AMI name and tag, CLI table',
};

const rowsFor = (sink: Sink) =>
  PAYLOADS.filter((p) => p.forbidden[sink]).map((p) => [p.what, p.forbidden[sink] as RegExp] as const);

function seedHostileImages(account: SimulatedAccount): void {
  PAYLOADS.forEach(({ value: payload }, i) => {
    account.addImage({
      name: payload.slice(0, 128),
      creationDate: `2016-01-${String(10 + i).padStart(2, '0')}T08:00:00.000Z`,
      tags: { environment: 'dev', role: payload },
    });
    // Five more in the same group, so the hostile one rotates out as a candidate.
    for (let n = 0; n < 5; n++) {
      account.addImage({
        name: `filler-${i}-${n}`,
        creationDate: `2016-02-${String(10 + i).padStart(2, '0')}T0${n}:00:00.000Z`,
        tags: { environment: 'dev', role: payload },
      });
    }
  });
}

let h: WorkflowHarness;
let pageHtml = '';
let email = '';
let table = '';

beforeAll(async () => {
  h = await startWorkflowHarness();
  seedHostileImages(h.account);
  await h.run({
    decision: 'NONE',
    beforeAnswer: async (request) => {
      email = `${request.subject}\n${request.message}`;
      // The page's own link (served on loopback): the email's first URL may be one a hostile
      // name planted, which is what the email rows check.
      const link = /http:\/\/127\.0\.0\.1:\d+\/\S*/.exec(request.message)?.[0] ?? '';
      pageHtml = await (await fetch(link)).text();
      request.withdraw();
    },
  });
  const io = bufferIo();
  await main(['plan', '--demo', '--full-report'], io, {
    awsEnvironment: () => Promise.reject(new Error('tests never reach a real account')),
    demoEnvironment: (scenario: DemoScenario) => {
      const env = demoEnvironment(scenario);
      if (env.simulated) seedHostileImages(env.simulated);
      return env;
    },
  });
  table = io.stdout();
});

afterAll(async () => {
  await h?.stop();
});

describe('hostile AMI names and tags', () => {
  it('reach every sink (the run planned them as candidates and the page, email and table exist)', () => {
    expect(pageHtml).toContain('filler-0-0');
    expect(email).toMatch(/dev\./);
    expect(table).toContain('filler-0-0');
  });

  it.each(rowsFor('page'))(hostile(SURFACE.page, '%s'), (_what, forbidden) => {
    expect(pageHtml).not.toMatch(forbidden);
  });

  it.each(rowsFor('email'))(hostile(SURFACE.email, '%s'), (_what, forbidden) => {
    expect(email).not.toMatch(forbidden);
    for (const line of email.split('\n')) expect(line.length).toBeLessThanOrEqual(200);
  });

  it.each(rowsFor('table'))(hostile(SURFACE.table, '%s'), (_what, forbidden) => {
    expect(table).not.toMatch(forbidden);
    // Every line of one table is as wide as its border: no cell broke the layout.
    const lines = table.split('\n').filter((line) => /^[|+]/.test(line));
    const borders = new Set(lines.filter((line) => line.startsWith('+')).map((line) => line.length));
    expect(lines.filter((line) => !borders.has(line.length))).toEqual([]);
  });

  it.each(PAYLOADS.map((p) => [p.what, p.value] as const))(
    hostile('AMI name and tag, log line', '%s'),
    (_what, payload) => {
      // Prepare: the handlers' logger, writing to a captured stream.
      const lines: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) =>
        lines.push(String(chunk)) > 0) as typeof process.stdout.write;
      try {
        // Act
        createLogger('hostile').info('planned', { group: payload, name: payload });
      } finally {
        process.stdout.write = write;
      }

      // Assess: exactly one JSON line with the value intact as data, no raw control character.
      const output = lines.join('');
      expect(output.trimEnd().split('\n')).toHaveLength(1);
      // Long opaque values are masked like tokens; anything else is kept as data.
      expect([payload, REDACTED]).toContain(JSON.parse(output).group);
      expect(output.trimEnd()).not.toMatch(C0);
    },
  );
});
