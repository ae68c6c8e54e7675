import type { z, ZodRawShape } from 'zod';
import type { ToolName } from '../../catalogue.js';
import type { CallContext, OrdersDatabase } from '../db/orders.js';

export interface ToolContext {
  db: OrdersDatabase;
  call: CallContext;
}

/** A tool's input schema and handler; its tier, description and annotations live in the catalogue. */
export interface ToolDefinition<Shape extends ZodRawShape = ZodRawShape, Name extends ToolName = ToolName> {
  name: Name;
  inputSchema: Shape;
  handler(args: z.infer<z.ZodObject<Shape>>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

export function defineTool<Shape extends ZodRawShape, Name extends ToolName>(tool: ToolDefinition<Shape, Name>): ToolDefinition<Shape, Name> {
  return tool;
}
