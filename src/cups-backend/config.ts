import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { hundredthsOf } from './pricing.js';
import { USERNAME_RULES } from './usernames.js';

/** Where the configuration is read when RECHARGE_CUPS_CONFIG does not say. */
export const DEFAULT_CONFIG_PATH = '/etc/recharge/cups-backend.json';

/**
 * Visible ASCII, as the API's references: a server's name and a queue's go into every job's
 * reference `server:queue:job`, so neither may hold a colon (the reference would read two ways).
 */
export const NAME_PATTERN = /^[\x21-\x39\x3b-\x7e]+$/;

const price = z
  .number()
  .nonnegative()
  .refine((units) => hundredthsOf(units) !== null, { message: 'a price has at most two decimals' })
  .transform((units) => hundredthsOf(units) as number);

const sidePrices = z.object({ simplex: price, duplex: price }).strict();

const printerSchema = z
  .object({
    category: z.enum(['print', 'copy']).default('print'),
    colour: z.boolean(),
    prices: z.object({ mono: sidePrices, colour: sidePrices.optional() }).strict(),
    whenShort: z.enum(['refuse', 'hold']).default('refuse'),
    whenUnreachable: z.enum(['hold', 'print']).default('hold'),
  })
  .strict()
  .refine((printer) => !printer.colour || printer.prices.colour !== undefined, {
    message: 'colour prices are required for a colour printer',
    path: ['prices', 'colour'],
  });

const configSchema = z
  .object({
    portalUrl: z
      .url({ protocol: /^https?$/, message: 'an http:// or https:// address' })
      .transform((url) => url.replace(/\/+$/, '')),
    apiKey: z.string().trim().min(1).optional(),
    apiKeyFile: z.string().min(1).optional(),
    serverName: z.string().max(40).regex(NAME_PATTERN, 'visible ASCII characters without a colon'),
    spoolDirectory: z.string().startsWith('/', 'an absolute path').default('/var/spool/recharge-cups'),
    timeoutSeconds: z.number().positive().max(300).default(10),
    usernames: z.array(z.enum(USERNAME_RULES)).default([]),
    printers: z.record(z.string().regex(NAME_PATTERN, 'a queue name is visible ASCII characters without a colon'), printerSchema),
    defaultPrinter: printerSchema.nullable().default(null),
  })
  .strict()
  .refine((config) => (config.apiKey === undefined) !== (config.apiKeyFile === undefined), {
    message: 'give either apiKey or apiKeyFile, not both',
    path: ['apiKey'],
  });

type ParsedConfig = z.infer<typeof configSchema>;
export type PrinterConfig = z.infer<typeof printerSchema>;
export type BackendConfig = Omit<ParsedConfig, 'apiKey' | 'apiKeyFile'> & { apiKey: string };

/** The configuration cannot be used: the message names the file and each field at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fieldOf = (path: ReadonlyArray<PropertyKey>) => (path.length === 0 ? '(the whole file)' : path.map(String).join('.'));

/** The configuration from its JSON text; `readSecret` reads apiKeyFile. */
export async function parseConfig(text: string, source: string, readSecret = (file: string) => readFile(file, 'utf8')): Promise<BackendConfig> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys' ? `${issue.keys.map((key) => fieldOf([...issue.path, key])).join(', ')}: unknown field` : `${fieldOf(issue.path)}: ${issue.message}`,
    );
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  const { apiKey, apiKeyFile, ...config } = parsed.data;
  return { ...config, apiKey: apiKey ?? (await keyFromFile(apiKeyFile as string, readSecret)) };
}

async function keyFromFile(file: string, readSecret: (file: string) => Promise<string>): Promise<string> {
  let key: string;
  try {
    key = (await readSecret(file)).trim();
  } catch (error) {
    throw new ConfigError(`apiKeyFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (key === '') throw new ConfigError(`apiKeyFile: ${file} is empty`);
  return key;
}

/** Reads the configuration at `path` (RECHARGE_CUPS_CONFIG, or the default). */
export async function loadConfig(path: string): Promise<BackendConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the configuration ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseConfig(text, path);
}

/** The queue's entry, or the default printer's; null when the queue is not configured. */
export const printerFor = (config: BackendConfig, queue: string): PrinterConfig | null =>
  (Object.hasOwn(config.printers, queue) ? config.printers[queue] : undefined) ?? config.defaultPrinter;
