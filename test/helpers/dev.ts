import { devFlags } from '../../app/dev/flags.js';
import { argv } from '../../app/shared/invocation.js';
import { startBinary, type Running } from './process.js';

type DevPort = 'mcpPort' | 'gatewayPort' | 'grpcPort' | 'adminPort' | 'uiPort' | 'agentPort';
const DEV_PORTS: DevPort[] = ['mcpPort', 'gatewayPort', 'grpcPort', 'adminPort', 'uiPort', 'agentPort'];

/** `hitl dev`'s port flags set to 0, so the system picks free ports and suites run side by side. */
export const freePorts = (except?: DevPort) => argv(devFlags, Object.fromEntries(DEV_PORTS.filter((key) => key !== except).map((key) => [key, 0])));

/** Starts `hitl dev` with the offline model on free ports; resolves once it has printed its URLs. */
export async function startDev(dataDir: string, options: { extra?: string[]; env?: NodeJS.ProcessEnv; ownGroup?: boolean; binary?: string } = {}): Promise<Running> {
  const dev = startBinary(['dev', ...argv(devFlags, { dataDir }), ...freePorts(), ...(options.extra ?? [])], { ANTHROPIC_API_KEY: '', ...options.env }, options);
  await dev.waitForLog((l) => String(l.msg).startsWith('Ctrl-C stops everything'));
  return dev;
}

/** The URL `hitl dev` printed on its line that starts with `label`. */
export function printedUrl(dev: Running, label: string): string {
  const line = dev.logs.map((l) => String(l.msg)).find((m) => m.trimStart().startsWith(label));
  return /https?:\/\/\S+/.exec(line ?? '')?.[0] ?? '';
}
