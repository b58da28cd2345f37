import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';

const printed = printSchema(lexicographicSortSchema(schema));

describe('schema.graphql', () => {
  it('is what the code prints (run `npm run codegen` after changing the schema)', () => {
    expect(readFileSync('schema.graphql', 'utf8').trimEnd()).toBe(printed.trimEnd());
  });

  it('contains the whole target API with the same names and types', () => {
    const target = buildSchema(readFileSync('test/fixtures/target-api.graphql', 'utf8'));
    const missing: string[] = [];
    for (const type of Object.values(target.getTypeMap())) {
      if (type.name.startsWith('__')) {
        continue;
      }
      const ours = schema.getType(type.name);
      if (!ours) {
        missing.push(type.name);
        continue;
      }
      missing.push(...compareType(type, ours));
    }
    expect(missing).toEqual([]);
  });

  it('describes every type, field, argument and enum value', () => {
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (
        type.name.startsWith('__') ||
        ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)
      ) {
        continue;
      }
      if (!type.description) {
        undocumented.push(type.name);
      }
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) {
            undocumented.push(`${type.name}.${field.name}`);
          }
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) {
              undocumented.push(`${type.name}.${field.name}(${arg.name})`);
            }
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          if (!value.description) {
            undocumented.push(`${type.name}.${value.name}`);
          }
        }
      }
    }
    expect(undocumented).toEqual([]);
  });
});

function compareType(target: GraphQLNamedType, ours: GraphQLNamedType): string[] {
  const problems: string[] = [];
  if (
    (isObjectType(target) || isInterfaceType(target) || isInputObjectType(target)) &&
    (isObjectType(ours) || isInterfaceType(ours) || isInputObjectType(ours))
  ) {
    const fields = ours.getFields();
    for (const field of Object.values(target.getFields())) {
      const mine = fields[field.name];
      if (!mine || String(mine.type) !== String(field.type)) {
        problems.push(
          `${target.name}.${field.name}: ${String(field.type)} vs ${String(mine?.type)}`,
        );
        continue;
      }
      for (const arg of 'args' in field ? field.args : []) {
        const myArg = 'args' in mine ? mine.args.find((a) => a.name === arg.name) : undefined;
        if (!myArg || String(myArg.type) !== String(arg.type)) {
          problems.push(`${target.name}.${field.name}(${arg.name})`);
        }
      }
    }
  }
  if (isObjectType(target) && isObjectType(ours)) {
    const interfaces = ours.getInterfaces().map((i) => i.name);
    problems.push(
      ...target
        .getInterfaces()
        .filter((i) => !interfaces.includes(i.name))
        .map((i) => `${target.name} implements ${i.name}`),
    );
  }
  if (isUnionType(target) && isUnionType(ours)) {
    const members = ours.getTypes().map((t) => t.name);
    problems.push(
      ...target
        .getTypes()
        .filter((t) => !members.includes(t.name))
        .map((t) => `${target.name} | ${t.name}`),
    );
  }
  if (isEnumType(target) && isEnumType(ours)) {
    problems.push(
      ...target
        .getValues()
        .filter((v) => !ours.getValue(v.name))
        .map((v) => `${target.name}.${v.name}`),
    );
  }
  return problems;
}
