import type { CodegenConfig } from '@graphql-codegen/cli';

// The one writer of schema.graphql (sorted), plus typed documents for the tests (test/gql/).
const config: CodegenConfig = {
  schema: './src/schema/index.ts',
  documents: ['test/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: true,
  importExtension: '.ts',
  generates: {
    './schema.graphql': { plugins: ['schema-ast'], config: { sort: true } },
    './test/gql/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        documentMode: 'string',
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
