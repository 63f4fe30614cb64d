// civic token create|list|revoke: API tokens, through the running server when there is one.
import { parseCommandArgs, UsageError, type Command } from '../args.ts';
import { CivicError } from '../../../warehouse/errors.ts';
import { parseExpiry, ROLES, type Role } from '../../../warehouse/access/tokens.ts';

const USAGE =
  'usage: civic token create --role R [--name N] [--agency A…] [--expires-in 30d|12h|never | --expires 2027-01-31] | token list [--json|--csv] | token revoke <id>';
const day = (iso: string | null) => iso?.slice(0, 10) ?? '';

export const run: Command = async (argv) => {
  const { values, positionals } = parseCommandArgs(argv, {
    role: { type: 'string' },
    name: { type: 'string' },
    agency: { type: 'string', multiple: true },
    'expires-in': { type: 'string' },
    expires: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
  });
  const [sub, id, ...extra] = positionals;
  if (extra.length) throw new UsageError(USAGE);

  if (sub === 'create') {
    if (id) throw new UsageError(USAGE);
    if (!values.role || !ROLES.includes(values.role as Role)) throw new UsageError(`token create needs --role ${ROLES.join('|')}`);
    if (values['expires-in'] !== undefined && values.expires !== undefined) throw new UsageError('token create takes --expires-in or --expires, not both');
    const role = values.role as Role;
    let expires_at: string | null | undefined;
    try {
      if (values['expires-in'] !== undefined) expires_at = parseExpiry(values['expires-in'], '--expires-in');
      else if (values.expires !== undefined) expires_at = parseExpiry(values.expires, '--expires');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { withAdmin } = await import('../admin.ts');
    const t = await withAdmin(values, (admin) => admin.createToken({ role, name: values.name ?? `${role} token`, agencies: values.agency, expires_at }));
    for (const w of t.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(values.json ? JSON.stringify(t, null, 2) + '\n' : `${t.token}\n`);
    const until = t.expires_at ? `expires ${t.expires_at}` : 'never expires';
    process.stderr.write(`token ${t.token_id} (${role}${t.agencies ? `, agencies: ${t.agencies.join(', ')}` : ''}; ${until}). Shown once: only its hash is stored.\n`);
    return 0;
  }
  if (sub === 'list' && !id) {
    const { withAdmin } = await import('../admin.ts');
    if (values.csv) {
      process.stdout.write(await withAdmin(values, (admin) => admin.tokensCsv()));
      return 0;
    }
    const tokens = await withAdmin(values, (admin) => admin.listTokens());
    if (values.json) process.stdout.write(JSON.stringify({ tokens }, null, 2) + '\n');
    else if (tokens.length === 0) process.stdout.write('no tokens yet: civic token create --role admin\n');
    else
      console.table(
        tokens.map((t) => ({
          token_id: t.token_id, name: t.name, role: t.role, agencies: t.agencies?.join(', ') ?? 'all', status: t.status,
          created: day(t.created_at), expires: t.expires_at ? day(t.expires_at) : 'never', revoked: day(t.revoked_at),
        })),
      );
    return 0;
  }
  if (sub === 'revoke' && id) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`token revoke needs a token id (36 characters, as civic token list shows them), not "${id}"`);
    const { withAdmin } = await import('../admin.ts');
    const t = await withAdmin(values, (admin) => admin.revokeToken(id.toLowerCase()));
    if (!t) throw new CivicError(`No token ${id} (civic token list shows them)`, { status: 404 });
    process.stdout.write(t.revoked_now ? `revoked ${t.token_id}\n` : `${t.token_id} was already revoked (${t.revoked_at})\n`);
    return 0;
  }
  throw new UsageError(USAGE);
};
