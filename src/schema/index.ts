import { builder } from './builder.ts';
import './errors.ts';
import './generation.ts';
import './generation-mutations.ts';
import './image.ts';
import './scalars.ts';
import './viewer.ts';

export const schema = builder.toSchema({ sortSchema: true });
