import { decodeGlobalID } from '@pothos/plugin-relay';

/** The database id inside a global id of the given type, or null for anything else. */
export function parseGlobalId(globalId: string, typename: 'Generation' | 'Image'): string | null {
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === typename ? decoded.id : null;
  } catch {
    return null;
  }
}
