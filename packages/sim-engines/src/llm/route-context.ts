// What the sim-llm routes share: the app, the served model and role, the model parameters, the runner.
import type { ZodFastifyInstance } from '@sage/common/http';
import type { EngineModelParams } from '../model/params';
import type { SimLlmRole } from './request-checks';
import type { SimLlmRunner } from './runner';

export interface RouteContext {
  app: ZodFastifyInstance;
  model: string;
  role: SimLlmRole;
  params: EngineModelParams;
  runner: SimLlmRunner;
}
