// Where the `sage` command keeps its state: $SAGE_HOME (default ~/.sage). The control plane's own engine state
// (run/engines.json, logs/engines/) lives under the same directory.
import * as os from 'node:os';
import * as path from 'node:path';

export interface SageHome {
  root: string;
  /** The user's saved settings (`sage inference config set`). */
  configFile: string;
  /** pid of the running control plane (plain number, one line). */
  pidFile: string;
  /** What the running control plane is serving with: url, pid, effective config. */
  serverFile: string;
  /** The control plane's log when it runs in the background. */
  logFile: string;
  /** Engines started by the control plane (written by @sage/llm-core). */
  engineStateFile: string;
  engineLogDir: string;
  gatewayPidFile: string;
  gatewayLogFile: string;
}

export function sageHome(env: NodeJS.ProcessEnv = process.env): SageHome {
  const root = path.resolve(env.SAGE_HOME && env.SAGE_HOME.trim() ? env.SAGE_HOME : path.join(os.homedir(), '.sage'));
  return {
    root,
    configFile: path.join(root, 'config.yaml'),
    pidFile: path.join(root, 'run', 'sage.pid'),
    serverFile: path.join(root, 'run', 'server.json'),
    logFile: path.join(root, 'logs', 'sage.log'),
    engineStateFile: path.join(root, 'run', 'engines.json'),
    engineLogDir: path.join(root, 'logs', 'engines'),
    gatewayPidFile: path.join(root, 'run', 'gateway.pid'),
    gatewayLogFile: path.join(root, 'logs', 'gateway.log'),
  };
}
