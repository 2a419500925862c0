// What the sim-llm routes share: the app, the served model and role, the model parameters, the runner.
import type { FastifyInstance } from 'fastify';
import type { EngineModelParams } from '../model/params';
import type { SimLlmRole } from './request-checks';
import type { SimLlmRunner } from './runner';

export interface RouteContext {
  app: FastifyInstance;
  model: string;
  role: SimLlmRole;
  params: EngineModelParams;
  runner: SimLlmRunner;
}
