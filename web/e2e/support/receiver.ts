// A webhook receiver on 127.0.0.1: it records every request as it arrived (raw body and
// headers), answers with the status the test chooses, and verifies Standard Webhooks
// signatures with an independent implementation (the `standardwebhooks` package).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  headers: Record<string, string>;
  raw: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  answered: number;
}

export class Receiver {
  readonly received: Received[] = [];
  private status = 200;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** Starts a receiver on a free loopback port; it answers 200 until told otherwise. */
  static async start(): Promise<Receiver> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new Receiver(server, `http://127.0.0.1:${port}/webhooks`);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receiver.record(request, Buffer.concat(chunks).toString('utf8'), response);
      });
    });
    return receiver;
  }

  /** Answers every later request with `status`. */
  answer(status: number): void {
    this.status = status;
  }

  /** The requests whose signature verifies with `secret` (`whsec_…`). */
  verifiedWith(secret: string): Received[] {
    const webhook = new Webhook(secret);
    return this.received.filter((request) => {
      try {
        webhook.verify(request.raw, request.headers);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** The event types received, in arrival order. */
  types(): string[] {
    return this.received.map((request) => request.body.type);
  }

  /** Stops listening and drops the dispatcher's kept-alive connections, which would otherwise
   * hold `close` until they time out. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private record(request: http.IncomingMessage, raw: string, response: http.ServerResponse) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers[name] = value;
    }
    const answered = this.status;
    this.received.push({
      id: headers['webhook-id'] ?? '',
      headers,
      raw,
      body: JSON.parse(raw) as Received['body'],
      answered,
    });
    response.writeHead(answered, { 'content-type': 'text/plain' });
    response.end(answered < 300 ? 'ok' : 'failing on purpose');
  }
}
