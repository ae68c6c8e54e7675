/**
 * Which model drives the graph: Anthropic when ANTHROPIC_API_KEY is set, otherwise the
 * offline scripted model, so tests and `npm start` never need the network.
 */
import { ChatAnthropic } from '@langchain/anthropic';
import { assistantPrompt } from '../catalogue.js';
import { AIMessage, SystemMessage } from '@langchain/core/messages';
import type { GatewayTool } from './gateway-tools.js';
import type { AgentModel } from './graph.js';
import { offlineModel } from './offline-model.js';

// The same instructions kagent's declarative agent is given, from the same catalogue.
const SYSTEM = assistantPrompt();

export function chooseModel(name: string, tools: GatewayTool[]): { name: string; chat: AgentModel } {
  if (!process.env.ANTHROPIC_API_KEY) return { name: 'offline', chat: offlineModel() };
  const bound = new ChatAnthropic({ model: name, maxRetries: 2 }).bindTools(
    tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema as never })),
  );
  return {
    name,
    chat: {
      invoke: async (messages) => {
        const reply = await bound.invoke([new SystemMessage(SYSTEM), ...messages]);
        return new AIMessage({ content: reply.content, tool_calls: reply.tool_calls, id: reply.id });
      },
    },
  };
}
