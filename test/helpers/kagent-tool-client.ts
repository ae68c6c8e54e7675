/**
 * An MCP tool caller that follows the rules kagent's Python agents live by, so tests see what
 * their model would see:
 * - the Python MCP SDK's Streamable HTTP client: a non-2xx answer becomes an opaque error
 *   ("Server returned an error response") and its body is never read; a 2xx JSON (or SSE)
 *   answer is parsed as the JSON-RPC response;
 * - ADK's MCP tool: a call that raised is retried once; the model then reads the result's text,
 *   or the error.
 */

const OPAQUE = 'Server returned an error response';

export interface ModelView {
  /** What the model reads back from the tool. */
  text: string;
  isError: boolean;
  /** HTTP attempts the tool made (2 when it retried). */
  attempts: number;
  /** The parsed result, when there was one. */
  result?: any;
}

export class KagentToolClient {
  private sessionId: string | undefined;
  private nextId = 1;

  constructor(
    private readonly endpoint: string,
    private readonly headers: Record<string, string>,
  ) {}

  async initialize(): Promise<void> {
    await this.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'kagent-like', version: '0' } });
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** One tool call as ADK makes it: retried once if it raised. */
  async callTool(name: string, args: Record<string, unknown>): Promise<ModelView> {
    let attempts = 0;
    let lastError: Error | undefined;
    while (attempts < 2) {
      attempts++;
      try {
        const result = await this.request('tools/call', { name, arguments: args });
        const text = (result.content as { type: string; text?: string }[]).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
        return { text, isError: result.isError === true, attempts, result };
      } catch (err) {
        lastError = err as Error;
      }
    }
    return { text: `Error: ${lastError!.message}`, isError: true, attempts };
  }

  private async request(method: string, params: object): Promise<any> {
    const id = this.nextId++;
    const response = await this.post({ jsonrpc: '2.0', id, method, params });
    if (response.error) throw new Error(response.error.message);
    return response.result;
  }

  private async post(message: object): Promise<any> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        ...this.headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      },
      body: JSON.stringify(message),
    });
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel();
      return { error: { code: -32603, message: OPAQUE } };
    }
    this.sessionId = response.headers.get('mcp-session-id') ?? this.sessionId;
    if (!('id' in message)) {
      await response.body?.cancel();
      return undefined;
    }
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    if (type.includes('text/event-stream')) {
      const data = text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)));
      return data.find((d) => d.id === (message as { id: number }).id);
    }
    return JSON.parse(text);
  }
}
