// Hash router: #/models, #/models/{id}, #/datasets, #/datasets/{id}, #/jobs, #/jobs/new, #/jobs/{id},
// #/reports/{id}, #/compare?ids=a,b
import { apiKey, forgetKey } from './api.js';
import { disposeCharts } from './charts.js';
import { clear, h, showError } from './ui.js';
import { modelsPage, modelPage } from './pages/models.js';
import { datasetsPage, datasetPage } from './pages/datasets.js';
import { jobsPage, newJobPage } from './pages/jobs.js';
import { jobPage } from './pages/job.js';
import { reportPage, comparePage } from './pages/reports.js';

const routes = [
  [/^#\/models\/?$/, modelsPage, 'models'],
  [/^#\/models\/([0-9a-f-]{36})$/, modelPage, 'models'],
  [/^#\/datasets\/?$/, datasetsPage, 'datasets'],
  [/^#\/datasets\/([0-9a-f-]{36})$/, datasetPage, 'datasets'],
  [/^#\/jobs\/?$/, jobsPage, 'jobs'],
  [/^#\/jobs\/new$/, newJobPage, 'jobs'],
  [/^#\/jobs\/([0-9a-f-]{36})$/, jobPage, 'jobs'],
  [/^#\/reports\/([0-9a-f-]{36})$/, reportPage, 'models'],
  [/^#\/compare$/, comparePage, 'compare'],
];

const main = document.getElementById('main');
let leaving = [];
let first = true;
let current = null;

async function render() {
  const hash = location.hash || '#/models';
  const path = hash.split('?')[0];
  if (current) current.alive = false;
  leaving.forEach(fn => fn());
  leaving = [];
  disposeCharts();
  // what a page starts (event streams, polling) stops when it is left: ctx.onLeave(fn); ctx.alive
  const ctx = { alive: true, onLeave: fn => (ctx.alive ? leaving.push(fn) : fn()) };
  current = ctx;
  const route = routes.find(([re]) => re.test(path));
  document.querySelectorAll('[data-nav]').forEach(a => {
    if (route && a.dataset.nav === route[2]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  clear(main);
  if (!route) {
    main.append(h('h1', 'Not found'), h('p', 'No page at ', h('code', hash), '. ', h('a', { href: '#/models' }, 'Go to the models.')));
    return;
  }
  const [re, page] = route;
  const params = path.match(re).slice(1);
  try {
    await page(main, ctx, ...params);
  } catch (e) {
    if (ctx.alive) showError(main, e);
  }
  if (!first) {
    const heading = main.querySelector('h1');
    (heading || main).setAttribute('tabindex', '-1');
    (heading || main).focus({ preventScroll: true });
  }
  first = false;
}

function keyButton() {
  document.getElementById('forget-key').hidden = !apiKey();
}

document.getElementById('forget-key').addEventListener('click', () => { forgetKey(); render(); });
document.addEventListener('qf:key', keyButton);
window.addEventListener('hashchange', render);
keyButton();
render();
