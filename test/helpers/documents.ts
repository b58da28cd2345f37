import type { GenerateImageInput } from '../gql/graphql.ts';
import { graphql } from '../gql/index.ts';
import type { TestApp } from './app.ts';
import { query } from './graphql.ts';

// Operations shared by several test files (codegen types them from this file).

export const GenerateImage = graphql(`
  mutation GenerateImage($input: GenerateImageInput!) {
    generateImage(input: $input) {
      __typename
      ... on GenerateImageSuccess {
        generation { id status createdAt idempotencyKey }
      }
      ... on Error { message code }
      ... on ValidationError { fieldErrors { path message } }
      ... on IdempotencyConflictError { holder: generation { id } }
      ... on QuotaExceededError { limit resetsAt }
    }
  }
`);

export const GenerationDetail = graphql(`
  query GenerationDetail($id: ID!) {
    generation(id: $id) {
      id
      status
      progress
      prompt
      model
      seedParam: params { seed aspectRatio width height outputFormat outputQuality imagePrompt promptUpsampling }
      upstreamJobId
      creditCost
      completedAt
      error { code message }
      images { id index url sourceUrl width height format contentType byteSize sha256 }
    }
  }
`);

/** Starts a generation through the API and returns its global id (fails on any error type). */
export async function startGeneration(
  app: Pick<TestApp, 'yoga'>,
  key: string | undefined,
  input: GenerateImageInput,
): Promise<string> {
  const { generateImage } = await query(app, GenerateImage, { input }, { key });
  if (generateImage.__typename !== 'GenerateImageSuccess') {
    throw new Error(`expected GenerateImageSuccess, got ${generateImage.__typename}`);
  }
  return generateImage.generation.id;
}
