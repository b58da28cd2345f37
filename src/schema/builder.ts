import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from '../context.ts';

const NODE_TYPES = new Set(['Generation', 'Image']);

/** A malformed or foreign id reads as a missing one (null), never as a server error. */
function decodeGlobalID(globalID: string) {
  const [typename = '', id = ''] = Buffer.from(globalID, 'base64').toString('utf8').split(':');
  return NODE_TYPES.has(typename) ? { typename, id } : { typename: 'Generation', id: '' };
}

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: { DateTime: { Input: Date; Output: Date | string } };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  plugins: [ErrorsPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    decodeGlobalID,
    nodeTypeOptions: { description: 'Relay global object identification.' },
    idFieldOptions: { description: 'Globally unique, opaque id (Relay).' },
    nodeQueryOptions: {
      description: 'Any object of the caller by its global id; null if none.',
      args: { id: { description: 'A global id from this API.' } },
    },
    nodesQueryOptions: {
      description: 'Several objects of the caller by global id, in order (null where none).',
      args: { ids: { description: 'Global ids from this API.' } },
    },
    pageInfoTypeOptions: { description: 'Where a page sits in the whole list (Relay).' },
    hasNextPageFieldOptions: { description: 'More items follow the last edge.' },
    hasPreviousPageFieldOptions: { description: 'More items precede the first edge.' },
    startCursorFieldOptions: { description: 'Cursor of the first edge.' },
    endCursorFieldOptions: { description: 'Cursor of the last edge.' },
    cursorFieldOptions: { description: 'Pass as after/before to continue from this edge.' },
    nodeFieldOptions: { description: 'The item.' },
    edgesFieldOptions: { description: 'The items of this page.' },
    pageInfoFieldOptions: { description: 'Cursors and whether more pages exist.' },
    firstArgOptions: { description: 'Page size, reading forward (default 20, max 100).' },
    afterArgOptions: { description: 'Read after this cursor.' },
    lastArgOptions: { description: 'Page size, reading backward (max 100).' },
    beforeArgOptions: { description: 'Read before this cursor.' },
  },
  errors: { defaultTypes: [] },
});
