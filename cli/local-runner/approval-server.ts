/**
 * Serves the real approval-page handler on a loopback port, translating each HTTP request into
 * the Lambda Function URL event (payload v2) the handler receives in AWS.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { createApprovalPageHandler } from '../../functions/approval-page.ts';

type ApprovalPageHandler = ReturnType<typeof createApprovalPageHandler>;

/** Function URLs cap request bodies; so does this server, so a huge POST is refused the same way. */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface ApprovalServer {
  /** The base URL the emailed link starts with, e.g. `http://127.0.0.1:43123/`. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Starts listening on 127.0.0.1 (never another interface); port 0 picks a free one. */
export async function startApprovalServer(
  page: () => ApprovalPageHandler,
  options: { port?: number } = {},
): Promise<ApprovalServer> {
  const server: Server = createServer(async (req, res) => {
    try {
      const event = await toFunctionUrlEvent(req);
      const response = await page()(event);
      res.writeHead(response.statusCode, response.headers as Record<string, string>);
      res.end(response.body);
    } catch {
      res.writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('request refused\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function toFunctionUrlEvent(req: IncomingMessage): Promise<APIGatewayProxyEventV2> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const body = Buffer.concat(chunks);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: 'local',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body.length > 0
      ? { body: body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}
