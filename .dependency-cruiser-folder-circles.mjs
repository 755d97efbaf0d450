import path from 'node:path';

/**
 * The second check of `npm run lint:layers`, a dependency-cruiser reporter plugin
 * (`--output-type plugin:…`): no folders import each other in a circle, even when no files do.
 * dependency-cruiser finds circles between files only: `--collapse` merges the graph for the report
 * after the rules were checked, and its folder-scope rules count a folder together with its
 * subfolders, so a folder and its own subfolder never show in a circle (src/web ↔ src/web/routes).
 *
 * A folder here is the files directly in it. A file directly in src/ or migrations/ stands alone:
 * src/'s own files are the process set-up and the foundations (config.ts, logger.ts), which import
 * or are imported by every layer, and the layer rules check them file by file.
 */
const ADVICE =
  'Folders import each other in a circle, although no files do: one folder must stand on the other, not both ways. Move what both need into a folder that imports neither, or move the file that closes the circle to the folder that assembles the others (src/ for the process set-up).';

const folderOf = (file) => (file.split('/').length <= 2 ? file : `${path.posix.dirname(file)}/`);
const isProjectFile = (file) => !/(^|\/)node_modules\//.test(file);

/** folder → folder it imports → one import that makes that edge (the first in alphabetical order, so the output is stable). */
function folderEdges(modules) {
  const edges = new Map();
  for (const module of modules) {
    if (module.coreModule || module.couldNotResolve || !isProjectFile(module.source)) continue;
    for (const dependency of module.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve || !isProjectFile(dependency.resolved)) continue;
      const [from, to] = [folderOf(module.source), folderOf(dependency.resolved)];
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const example = `${module.source} → ${dependency.resolved}`;
      const known = edges.get(from).get(to);
      if (known === undefined || example < known) edges.get(from).set(to, example);
    }
  }
  return edges;
}

/** The folders that reach each other, as strongly connected components of more than one folder (Tarjan). */
function circles(folders, edges) {
  const order = new Map();
  const lowest = new Map();
  const stack = [];
  const found = [];
  const visit = (folder) => {
    order.set(folder, order.size);
    lowest.set(folder, order.get(folder));
    stack.push(folder);
    for (const next of [...(edges.get(folder)?.keys() ?? [])].sort()) {
      if (!order.has(next)) {
        visit(next);
        lowest.set(folder, Math.min(lowest.get(folder), lowest.get(next)));
      } else if (stack.includes(next)) {
        lowest.set(folder, Math.min(lowest.get(folder), order.get(next)));
      }
    }
    if (lowest.get(folder) !== order.get(folder)) return;
    const component = stack.splice(stack.indexOf(folder));
    if (component.length > 1) found.push(component.sort());
  };
  for (const folder of folders) if (!order.has(folder)) visit(folder);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The shortest circle from the first folder of a component back to it, staying inside the component. */
function shortestCircle(component, edges) {
  const [start] = component;
  const cameFrom = new Map();
  const queue = [start];
  while (!cameFrom.has(start)) {
    const folder = queue.shift();
    for (const next of [...(edges.get(folder)?.keys() ?? [])].sort()) {
      if (!component.includes(next) || cameFrom.has(next)) continue;
      cameFrom.set(next, folder);
      queue.push(next);
    }
  }
  const circle = [start];
  for (let folder = cameFrom.get(start); folder !== start; folder = cameFrom.get(folder)) circle.unshift(folder);
  return [start, ...circle.slice(0, -1), start];
}

export default function folderCircles(cruiseResult) {
  const edges = folderEdges(cruiseResult.modules);
  const folders = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((targets) => [...targets.keys()])])].sort();
  const found = circles(folders, edges);
  const reports = found.map((component) => {
    const circle = shortestCircle(component, edges);
    const imports = circle.slice(1).map((to, index) => `      ${edges.get(circle[index]).get(to)}`);
    return [`  error no-folder-circles: ${circle.join(' → ')}`, `    ${ADVICE}`, ...imports, ''].join('\n');
  });
  const checked = `${folders.length} folders and top-level files checked`;
  const summary =
    found.length === 0 ? `✔ no circle between folders (${checked})` : `x ${found.length} circle${found.length === 1 ? '' : 's'} between folders (${checked})`;
  return { output: `${['', ...reports, summary].join('\n')}\n`, exitCode: found.length };
}
