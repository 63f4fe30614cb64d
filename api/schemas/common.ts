import Type from 'typebox';

export const Format = Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json', description: 'json (default) or csv' });

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
});

export const CsvBody = Type.String({ description: 'RFC 4180 CSV with a header row' });
