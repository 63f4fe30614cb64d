// The query parameters every analysis shares, so /api/kpis, /api/trends, /api/hotspots and
// /api/equity (and the CLI) read a window the same way.
import Type from 'typebox';

export const WindowQuery = {
  from: Type.Optional(Type.String({ format: 'date', description: 'First local day, inclusive (default: 12 weeks — or `weeks` where a route has it — before `to`)' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'Last local day, inclusive (default: the day of the newest case)' })),
  as_of: Type.Optional(Type.String({ format: 'date-time', description: 'What "now" is for open cases (default: the newest event in the warehouse)' })),
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A service code or name' })),
};
