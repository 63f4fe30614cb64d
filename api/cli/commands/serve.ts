// civic serve: the API, the dashboard and the report scheduler, until a signal stops them.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';

export const run: Command = async (args) => {
  const { values, positionals } = parseCommandArgs(args, {});
  if (positionals.length) throw new UsageError(`serve takes no arguments (got ${positionals.join(' ')})`);
  const [{ cliConfig }, { checkCanListen, startServer }] = await Promise.all([import('../warehouse.ts'), import('../../server.ts')]);
  const config = cliConfig(values);
  if (config.port !== 0) await checkCanListen(config.host, config.port);
  const server = await startServer(config);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keep running
};
