// Validates every document of deploy/kubernetes/*.yaml against the Kubernetes API schema of its
// apiVersion/kind, offline, with kubernetes-models' generated validators. Runs on Node 22 (see
// package.json). Prints one JSON line: { checked: [...], problems: [...] }; exit 1 on problems.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const dir = process.argv[2];
const checked = [];
const problems = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
    const value = doc.toJS();
    if (!value) continue;
    const where = `${file}: ${value.kind} ${value.metadata?.name ?? '?'}`;
    const [group, version] = value.apiVersion.includes('/')
      ? value.apiVersion.split('/')
      : ['', value.apiVersion];
    const path = group
      ? `kubernetes-models/${group}/${version}/${value.kind}`
      : `kubernetes-models/${version}/${value.kind}`;
    try {
      const mod = await import(path);
      const Model = mod[value.kind] ?? mod.default;
      new Model(value).validate();
      checked.push(where);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
console.log(JSON.stringify({ checked, problems }));
process.exit(problems.length ? 1 : 0);
