export * from './download.ts';
export * from './fs-storage.ts';
export * from './storage.ts';
