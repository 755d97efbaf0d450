/** What pages read of second factors, straight from the repository. */
export { listFactorKinds } from '../../db/second-factors/second-factor-repository.js';
