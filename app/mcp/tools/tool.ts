import type { z, ZodRawShape } from 'zod';
import type { CallContext, OrdersDatabase } from '../db/orders.js';

export interface ToolContext {
  db: OrdersDatabase;
  call: CallContext;
}

/** A tool's input schema and handler; its tier, description and annotations live in the catalogue. */
export interface ToolDefinition<Shape extends ZodRawShape = ZodRawShape> {
  name: string;
  inputSchema: Shape;
  handler(args: z.infer<z.ZodObject<Shape>>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

export function defineTool<Shape extends ZodRawShape>(tool: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return tool;
}
