import { graphql } from '../gql/index.ts';

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
