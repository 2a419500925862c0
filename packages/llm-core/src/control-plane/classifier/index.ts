export {
  RequestClassifier,
  requestClassifier,
  instanceRank,
  isLlmType,
  servesModel,
  type ClassifiableRequest,
  type ValidationCode,
  type ValidationIssue,
} from './request-classifier';
