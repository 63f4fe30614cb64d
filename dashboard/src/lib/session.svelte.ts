// Who is signed in, shared by the layout (name and sign-out) and the pages that need it.
import { getSession, type SessionInfo } from './api.ts';

export const session = $state<{ info: SessionInfo | null }>({ info: null });

export async function refreshSession(): Promise<SessionInfo> {
  try {
    session.info = await getSession();
  } catch {
    session.info = { signed_in: false };
  }
  return session.info;
}
