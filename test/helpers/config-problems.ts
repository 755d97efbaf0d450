import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems `loadConfig` names when it refuses `env`; fails the test when it accepts it. */
export function configProblems(env: NodeJS.ProcessEnv, configDir?: string): string[] {
  try {
    loadConfig({ env, configDir });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}
