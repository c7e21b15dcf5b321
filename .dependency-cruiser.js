/** Import rules checked by `npm run lint`: the folders of the service form no cycle. */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'A folder may not depend, directly or through others, on a folder that depends on it.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'No file may import itself through a chain of imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
