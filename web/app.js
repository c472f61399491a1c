// ottr's web app: sign in, browse and search, title pages, watchlist, continue watching,
// playback with hls.js (quality, audio language and subtitle menus, the choice of
// language remembered per profile, automatic ABR, position reported for resume), and a
// studio where editors create a title, upload a file with a progress bar, watch the
// transcode live, see the audio and subtitle tracks it got, add subtitle files, and
// publish. Plain modules, no build step.

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const state = JSON.parse(localStorage.getItem('ottr.session') || 'null') || {};

function save() { localStorage.setItem('ottr.session', JSON.stringify(state)); }
function esc(text) { return String(text ?? '').replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`); }
function isStaff() { return (state.user?.roles || []).some(r => r === 'editor' || r === 'admin'); }

// At most one refresh in flight. A refresh token is spent when exchanged, so requests
// that meet an expired token together share one exchange instead of each spending it
// (auth forgives a second exchange only within a short grace window: other tabs).
let refreshing = null;
function renewSession() {
  refreshing ??= (async () => {
    try {
      const renewed = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: state.refresh }) });
      if (!renewed.ok) return false;
      remember(await renewed.json());
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function api(path, { method = 'GET', body, retry = true } = {}) {
  const headers = { 'content-type': 'application/json' };
  const sentWith = state.token;
  if (sentWith) headers.authorization = `Bearer ${sentWith}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // An expired access token is renewed once with the refresh token; a request whose
  // token was already renewed meanwhile just goes again with the new one.
  if (response.status === 401 && retry && state.refresh) {
    if (state.token !== sentWith || await renewSession()) return api(path, { method, body, retry: false });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(data?.message || response.statusText), { code: data?.code, status: response.status });
  return data;
}

function remember(session) {
  state.token = session.access_token;
  state.refresh = session.refresh_token;
  state.user = session.user;
  save();
}

async function profile() {
  if (state.profile) return state.profile;
  let profiles = await api('/api/v1/profiles');
  if (!profiles.length) profiles = [await api('/api/v1/profiles', { method: 'POST', body: { name: 'Main' } })];
  choose(profiles[0]);
  return state.profile;
}

function choose(chosen) {
  state.profile = chosen.id;
  state.profileName = chosen.name;
  state.kids = chosen.kids;
  save();
}

// A catalog path with the viewer's profile, so a kids profile sees only what is rated for it.
async function viewing(path) {
  if (!state.token) return path;
  return `${path}${path.includes('?') ? '&' : '?'}profile=${encodeURIComponent(await profile())}`;
}

function renderNav() {
  nav.innerHTML = state.token
    ? `<a href="#/">Browse</a>${isStaff() ? '<a href="#/studio" data-testid="studio-link">Studio</a>' : ''}
       <a href="#/account" data-testid="account-link">Account</a>
       <a href="#/profiles" data-testid="profiles-link">${esc(state.profileName || 'Profiles')}${state.kids ? ' (kids)' : ''}</a>
       <span class="muted">${esc(state.user?.email)}</span><button class="secondary" id="signout">Sign out</button>`
    : '<a href="#/login">Sign in</a>';
  document.getElementById('signout')?.addEventListener('click', async () => {
    if (state.refresh) await api('/api/v1/auth/logout', { method: 'POST', body: { refresh_token: state.refresh } }).catch(() => {});
    for (const key of Object.keys(state)) delete state[key];
    save();
    location.hash = '#/login';
  });
}

// A poster, or the title's initial on a panel when it has none (or it fails to load).
function poster(title) {
  const initial = `<span class="poster-none">${esc((title.title || '?').slice(0, 1))}</span>`;
  return title.poster_url ? `<img class="poster" loading="lazy" alt="" src="${esc(title.poster_url)}" data-testid="poster">${initial}` : initial;
}
// Images that fail (no poster frame yet) give way to the initial beside them.
document.addEventListener('error', event => { if (event.target.classList?.contains('poster')) event.target.classList.add('broken'); }, true);

function card(title, extra = '') {
  return `<a class="card" href="#/title/${esc(title.id)}" data-testid="title-card">${poster(title)}
    <strong>${esc(title.title)}</strong><br><small>${esc(title.release_year || '')} ${esc(title.kind)}</small>${extra}</a>`;
}

// The home page's big banner: the newest title that has a picture.
function featured(titles) {
  const title = titles.find(t => t.poster_url) || titles[0];
  if (!title) return '';
  return `<section class="hero" data-testid="featured">${poster(title)}<div><h1>${esc(title.title)}</h1>
    <p>${esc(title.synopsis)}</p><a href="#/title/${esc(title.id)}"><button>More</button></a></div></section>`;
}

// A row per genre, the genres with most titles first.
function genreRows(titles) {
  const byGenre = new Map();
  for (const t of titles) for (const g of t.genres) byGenre.set(g, [...(byGenre.get(g) || []), t]);
  return [...byGenre].sort((a, b) => b[1].length - a[1].length).slice(0, 6)
    .map(([genre, list]) => `<h2>${esc(genre)}</h2><div class="row" data-testid="genre-row">${list.map(t => card(t)).join('')}</div>`).join('');
}

// "S2 E5" for an episode.
const episodeLabel = e => `S${e.season_number} E${e.number}`;

// A continue-watching item: a movie or an episode, started or up next, opening the player
// where it stopped.
function resumeCard(item) {
  const e = item.episode;
  const href = e ? `#/episode/${esc(e.id)}` : `#/watch/${esc(item.title.id)}`;
  const what = e ? `${episodeLabel(e)} · ${esc(e.title)}` : '';
  const where = item.up_next ? 'up next' : `${Math.round(item.position_secs / 60)} of ${Math.round(item.duration_secs / 60)} min`;
  const done = item.duration_secs > 0 ? Math.round(item.position_secs / item.duration_secs * 100) : 0;
  return `<a class="card" href="${href}" data-testid="resume-card">${poster(item.title)}
    <strong>${esc(item.title.title)}</strong><br><small>${what}${what ? ' · ' : ''}${where}</small>
    <progress max="100" value="${item.up_next ? 0 : done}" data-testid="resume-progress"></progress></a>`;
}

const pages = {
  async login(_, paint) {
    paint(`<h1>Sign in</h1>
      <form id="login"><input name="email" type="email" placeholder="Email" required data-testid="email">
      <input name="password" type="password" placeholder="Password (8+ characters)" required data-testid="password">
      <button data-testid="sign-in">Sign in</button><button type="button" class="secondary" id="register">Create account</button>
      <div class="error" id="error"></div></form>`);
    const form = document.getElementById('login');
    const submit = async path => {
      const body = { email: form.email.value, password: form.password.value };
      try {
        remember(await api(path, { method: 'POST', body }));
        location.hash = sessionStorage.getItem('ottr.after') || '#/';
        sessionStorage.removeItem('ottr.after');
      }
      catch (error) { document.getElementById('error').textContent = error.message; }
    };
    form.addEventListener('submit', event => { event.preventDefault(); submit('/api/v1/auth/login'); });
    document.getElementById('register').addEventListener('click', () => submit('/api/v1/auth/register'));
  },

  // Browsing is public: a visitor who is not signed in lands here too, without the rows
  // that belong to a profile.
  async home(_, paint) {
    const signedIn = Boolean(state.token);
    const resumeRow = signedIn ? api(`/api/v1/profiles/${await profile()}/continue-watching`) : null;
    const [resume, page] = await Promise.all([resumeRow, api(await viewing('/api/v1/titles?page_size=48'))]);
    const continueRow = resume ? `<h2>Continue watching</h2><div class="row" data-testid="continue-row">${resume.items.map(resumeCard).join('') || '<span class="muted">Nothing started yet.</span>'}</div>`
      : '<p class="muted" data-testid="visitor-hint"><a href="#/login">Sign in</a> to play, keep a list and resume where you stopped.</p>';
    paint(`${featured(page.titles)}
      <form id="search" class="search"><input name="q" placeholder="Search titles, people, stories" data-testid="search">
      <button>Search</button></form>
      ${continueRow}
      <h2 id="list-heading">New</h2><div class="grid" id="titles">${page.titles.map(t => card(t)).join('')}</div>
      ${genreRows(page.titles)}`);
    document.getElementById('search').addEventListener('submit', async event => {
      event.preventDefault();
      const q = event.target.q.value.trim();
      if (!q) return;
      const found = await api(await viewing(`/api/v1/search?q=${encodeURIComponent(q)}`)).catch(() => ({ titles: [] }));
      document.getElementById('list-heading').textContent = `Results for “${q}”`;
      document.getElementById('titles').innerHTML = found.titles.map(t => card(t)).join('') || '<span class="muted">No match.</span>';
    });
  },

  async title(id, paint) {
    const title = await api(await viewing(`/api/v1/titles/${encodeURIComponent(id)}`));
    const pid = state.token ? await profile() : null;
    const list = pid ? await api(`/api/v1/profiles/${pid}/watchlist`) : { titles: [] };
    let listed = list.titles.some(t => t.id === title.id);
    let seasons = '';
    if (title.kind === 'series') {
      const series = await api(await viewing(`/api/v1/series/${title.id}`));
      const playable = e => e.asset_id
        ? ` <a href="${pid ? `#/episode/${esc(e.id)}` : '#/login'}" data-testid="play-episode">${pid ? 'Play' : 'Sign in to play'}</a>` : '';
      seasons = series.seasons.map(s => `<h3>Season ${s.number}</h3><ol>${s.episodes.map(e =>
        `<li value="${e.number}">${esc(e.title)} <span class="muted">${Math.round(e.runtime_secs / 60)} min</span>${playable(e)}</li>`).join('')}</ol>`).join('');
    }
    paint(`<h1 data-testid="title-name">${esc(title.title)}</h1>
      <p class="muted">${esc(title.release_year || '')} · ${esc(title.maturity_rating)} · ${esc(title.genres.join(', '))}</p>
      <p>${esc(title.synopsis)}</p>
      ${title.asset_id ? `<a href="${pid ? `#/watch/${esc(title.id)}` : '#/login'}"><button data-testid="play">${pid ? 'Play' : 'Sign in to play'}</button></a>` : ''}
      ${pid ? `<button class="secondary" id="watchlist" data-testid="watchlist">${listed ? 'On your list ✓' : '+ My list'}</button>` : ''}${seasons}`);
    document.getElementById('watchlist')?.addEventListener('click', async event => {
      await api(`/api/v1/profiles/${pid}/watchlist/${title.id}`, { method: listed ? 'DELETE' : 'PUT' });
      listed = !listed;
      event.target.textContent = listed ? 'On your list ✓' : '+ My list';
    });
  },

  // Who is watching: choose a profile, add one (a kids profile has a maturity limit),
  // rename or remove one.
  async profiles(_, paint) {
    const profiles = await api('/api/v1/profiles');
    const ratings = ['G', 'PG', 'PG-13', 'TV-Y', 'TV-Y7', 'TV-G', 'TV-PG', 'TV-14'];
    paint(`<h1>Who is watching?</h1><ul class="profiles" data-testid="profile-list">${profiles.map(p => `<li data-profile="${esc(p.id)}">
        <button data-act="choose" data-testid="choose-profile">${esc(p.name)}</button>
        ${p.kids ? `<span class="muted">kids · up to ${esc(p.max_maturity_rating)}</span>` : ''}${p.id === state.profile ? ' <span class="muted">(watching)</span>' : ''}
        <button class="secondary" data-act="rename">Rename</button> <button class="secondary" data-act="remove">Remove</button></li>`).join('')}</ul>
      <h2>Add a profile</h2><form id="new-profile"><input name="name" placeholder="Name" required maxlength="40" data-testid="profile-name">
      <label><input type="checkbox" name="kids" data-testid="profile-kids"> Kids profile, up to
      <select name="rating" data-testid="profile-rating">${ratings.map(r => `<option${r === 'PG' ? ' selected' : ''}>${r}</option>`).join('')}</select></label>
      <button data-testid="add-profile">Add</button><div class="error" id="error"></div></form>`);
    const fail = error => { document.getElementById('error').textContent = error.message; };
    document.querySelector('[data-testid=profile-list]').addEventListener('click', async event => {
      const button = event.target.closest('button[data-act]');
      if (!button) return;
      const chosen = profiles.find(p => p.id === button.closest('li').dataset.profile);
      try {
        if (button.dataset.act === 'choose') { choose(chosen); location.hash = '#/'; return; }
        if (button.dataset.act === 'rename') {
          const name = prompt('New name', chosen.name);
          if (!name) return;
          const body = { name, kids: chosen.kids, max_maturity_rating: chosen.max_maturity_rating };
          const renamed = await api(`/api/v1/profiles/${chosen.id}`, { method: 'PUT', body });
          if (renamed.id === state.profile) choose(renamed);
        } else {
          if (!confirm(`Remove ${chosen.name} with its list and history?`)) return;
          await api(`/api/v1/profiles/${chosen.id}`, { method: 'DELETE' });
          if (chosen.id === state.profile) { delete state.profile; save(); }
        }
        route();
      } catch (error) { fail(error); }
    });
    document.getElementById('new-profile').addEventListener('submit', async event => {
      event.preventDefault();
      const form = event.target;
      const body = { name: form.name.value, kids: form.kids.checked, max_maturity_rating: form.kids.checked ? form.rating.value : '' };
      try { await api('/api/v1/profiles', { method: 'POST', body }); route(); } catch (error) { fail(error); }
    });
  },

  // The account: change the password (other sessions end), or delete the account with
  // everything it kept.
  async account(_, paint) {
    paint(`<h1>Account</h1><p class="muted">${esc(state.user?.email)}</p>
      <h2>Change password</h2><form id="password"><input name="current" type="password" placeholder="Current password" required data-testid="current-password">
      <input name="next" type="password" placeholder="New password (8+ characters)" required minlength="8" data-testid="new-password">
      <button data-testid="change-password">Change</button><div class="error" id="password-said"></div></form>
      <h2>Delete account</h2><form id="delete"><p class="muted">Your profiles, lists and history are erased; this cannot be undone.</p>
      <input name="password" type="password" placeholder="Password" required data-testid="delete-password">
      <button data-testid="delete-account">Delete my account</button><div class="error" id="delete-said"></div></form>`);
    document.getElementById('password').addEventListener('submit', async event => {
      event.preventDefault();
      const form = event.target, said = document.getElementById('password-said');
      try {
        const done = await api('/api/v1/me/password', { method: 'PUT', body: { current_password: form.current.value, new_password: form.next.value } });
        said.textContent = `Changed; ${done.sessions_ended} other session(s) signed out.`;
        form.reset();
      } catch (error) { said.textContent = error.message; }
    });
    document.getElementById('delete').addEventListener('submit', async event => {
      event.preventDefault();
      if (!confirm('Delete your account for good?')) return;
      try {
        await api('/api/v1/me', { method: 'DELETE', body: { password: event.target.password.value } });
        for (const key of Object.keys(state)) delete state[key];
        save();
        location.hash = '#/';
      } catch (error) { document.getElementById('delete-said').textContent = error.message; }
    });
  },

  // TV sign-in (RFC 8628's device flow): the code a television shows, confirmed here by
  // the signed-in viewer (the TV's link carries it as ?code=).
  async activate(query, paint) {
    const code = new URLSearchParams(query || '').get('code') || '';
    paint(`<h1>Sign in a TV</h1><p>Enter the code your TV shows.</p>
      <form id="activate"><input name="code" value="${esc(code)}" placeholder="XXXX-XXXX" required autocomplete="off" data-testid="device-code">
      <button data-testid="approve-device">Sign the TV in</button> <button type="button" class="secondary" id="deny">Not me</button>
      <div class="error" id="activate-said" data-testid="activate-said"></div></form>`);
    const form = document.getElementById('activate'), said = document.getElementById('activate-said');
    const decide = async deny => {
      try {
        await api('/api/v1/device/approve', { method: 'POST', body: { user_code: form.code.value, deny } });
        said.textContent = deny ? 'Refused: the TV stays signed out.' : 'Done: the TV is signing in.';
      } catch (error) { said.textContent = error.message; }
    };
    form.addEventListener('submit', event => { event.preventDefault(); decide(false); });
    document.getElementById('deny').addEventListener('click', () => decide(true));
  },

  watch(id, paint) { return play('titles', id, paint); },
  episode(id, paint) { return play('episodes', id, paint); },

  async studio(_, paint) {
    if (!isStaff()) { paint('<p>Only editors and admins use the studio.</p>'); return; }
    paint(`<h1>Studio</h1>
      <form id="create"><input name="title" placeholder="Title" required data-testid="new-title">
      <input name="slug" placeholder="slug-like-this" required pattern="[a-z0-9]+(-[a-z0-9]+)*" data-testid="new-slug">
      <textarea name="synopsis" placeholder="Synopsis"></textarea>
      <select name="kind"><option value="movie">Movie</option><option value="series">Series</option></select>
      <label><input type="checkbox" name="downloadable" data-testid="new-downloadable"> Offer an MP4 download</label>
      <input name="file" type="file" accept="video/*" required data-testid="file">
      <button data-testid="create-upload">Create and upload</button>
      <div class="error" id="error"></div></form>
      <section id="progress" hidden>
        <p>Upload <progress id="upload-bar" max="100" value="0" data-testid="upload-progress"></progress></p>
        <p>Transcode <progress id="job-bar" max="100" value="0"></progress>
          <span data-testid="job-phase" id="job-phase">waiting</span> <span class="muted" id="job-detail"></span></p>
        <button id="publish" hidden data-testid="publish">Publish</button> <a id="open" hidden data-testid="open-title">Open the title</a>
      </section>
      <section id="tracks" hidden><h2>Tracks</h2><div id="track-list"></div>
        <form><input name="language" placeholder="Language (en, fr)" required>
        <input name="label" placeholder="Label (optional)">
        <select name="kind"><option value="subtitles">Subtitles</option><option value="captions">Captions</option></select>
        <input name="file" type="file" accept=".vtt,.srt,text/vtt" required>
        <button>Add subtitles</button><div class="error"></div></form></section>
      <section id="assets"><h2>Assets</h2>
        <label>Show <select id="asset-state" data-testid="asset-state"><option value="">every state</option>
          <option>processing</option><option>ready</option><option>failed</option><option>cancelled</option></select></label>
        <table class="assets"><thead><tr><th>File</th><th>State</th><th>Size · length</th><th>Rungs</th><th>Uploaded</th><th></th></tr></thead>
        <tbody id="asset-rows" data-testid="asset-rows"></tbody></table>
        <button class="secondary" id="more-assets" hidden>More</button><div class="error" id="asset-error"></div></section>
      <section id="viewing" data-testid="viewing"><h2>Viewing <small class="muted" id="viewing-of">every title</small></h2>
        <label>Over <select id="viewing-days" data-testid="viewing-days"><option value="7">7 days</option>
          <option value="30" selected>30 days</option><option value="90">90 days</option></select></label>
        <button class="secondary" id="viewing-all" hidden data-testid="viewing-all">Every title</button>
        <div id="viewing-chart"></div><p id="viewing-total" data-testid="viewing-total"></p>
        <table class="assets"><thead><tr><th>Most watched</th><th>Hours</th><th>Plays</th><th>Viewers</th><th>Completions</th></tr></thead>
        <tbody id="viewing-top"></tbody></table><div class="error" id="viewing-error"></div></section>
      <section id="webhooks" data-testid="webhooks"><h2>Webhooks</h2>
        <form id="webhook-form"><input name="url" type="url" placeholder="https://your-system.example/ottr" required data-testid="webhook-url">
        ${WEBHOOK_EVENTS.map(e => `<label><input type="checkbox" name="events" value="${e}" checked> ${e}</label>`).join(' ')}
        <button data-testid="add-webhook">Add endpoint</button><div class="error" id="webhook-error" data-testid="webhook-error"></div></form>
        <p id="webhook-secret" hidden data-testid="webhook-secret"></p>
        <table class="assets"><thead><tr><th>Endpoint</th><th>Events</th><th></th></tr></thead>
        <tbody id="webhook-rows" data-testid="webhook-rows"></tbody></table>
        <div id="webhook-log" data-testid="webhook-log"></div></section>`);
    assetList();
    viewingFigures();
    webhookList();
    const form = document.getElementById('create');
    form.addEventListener('submit', async event => {
      event.preventDefault();
      try {
        const body = { kind: form.kind.value, slug: form.slug.value, title: form.title.value, synopsis: form.synopsis.value, downloadable: form.downloadable.checked };
        const title = await api('/api/v1/titles', { method: 'POST', body });
        document.getElementById('progress').hidden = false;
        const { asset, job } = await upload(form.file.files[0], percent => { document.getElementById('upload-bar').value = percent; });
        await api(`/api/v1/titles/${title.id}`, { method: 'PUT', body: { ...body, asset_id: asset } });
        follow(job, title, asset);
      } catch (error) { document.getElementById('error').textContent = error.message; }
    });
  },
};

// The player, for a movie (`titles`) or an episode (`episodes`): hls.js with quality,
// audio and subtitle menus; resumes where the profile stopped; reports the position every
// few seconds and on pause; at the end of an episode, offers the next one and plays it
// after a short countdown unless the viewer stays.
async function play(kind, id, paint) {
  const pid = await profile();
  const [playback, resume] = await Promise.all([
    api(await viewing(`/api/v1/${kind}/${encodeURIComponent(id)}/playback`)),
    api(`/api/v1/profiles/${pid}/continue-watching`),
  ]);
  const { title, episode, next_episode: next } = playback;
  const started = resume.items.find(item => !item.up_next && (episode ? item.episode_id === episode.id : item.title?.id === title.id && !item.episode_id));
  const heading = episode ? `${esc(title.title)} <small class="muted" data-testid="episode-label">${episodeLabel(episode)} · ${esc(episode.title)}</small>` : esc(title.title);
  paint(`<h1 data-testid="playing">${heading}</h1>
    <video id="video" controls playsinline data-testid="video" poster="${esc(playback.poster_url)}"></video>
    <div class="player-bar"><label>Quality <select id="quality" data-testid="quality"><option value="-1">Auto</option></select></label>
    <label hidden>Audio <select id="audio" data-testid="audio"></select></label>
    <label hidden>Subtitles <select id="subtitles" data-testid="subtitles"><option value="-1">Off</option></select></label>
    <span class="muted" id="level" data-testid="level"></span>
    ${playback.download_url ? `<a href="${esc(playback.download_url)}" download data-testid="download">Download MP4 · ${(playback.download_bytes / 1048576).toFixed(1)} MiB</a>` : ''}</div>
    <div class="scrub"><div id="preview" class="preview" hidden data-testid="preview"></div>
      <input id="scrub" type="range" min="0" max="1000" value="0" data-testid="scrub" aria-label="Seek"></div>
    ${next ? `<section id="up-next" class="up-next" hidden data-testid="up-next">Up next: <strong>${episodeLabel(next)} · ${esc(next.title)}</strong>
      <span id="countdown" class="muted"></span>
      <a href="#/episode/${esc(next.id)}"><button data-testid="next-episode">Play next</button></a>
      <button class="secondary" id="stay">Stay here</button></section>` : ''}`);
  const video = document.getElementById('video');
  const quality = document.getElementById('quality');
  const player = new Hls({ capLevelToPlayerSize: false });
  window.ottrPlayer = player;
  trackMenus(player, pid);
  player.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    quality.innerHTML = '<option value="-1">Auto</option>' + data.levels
      .map((level, i) => `<option value="${i}">${level.height}p · ${Math.round(level.bitrate / 1000)} kb/s</option>`).join('');
  });
  player.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
    const level = player.levels[data.level];
    document.getElementById('level').textContent = level ? `playing ${level.height}p` : '';
  });
  quality.addEventListener('change', () => { player.currentLevel = Number(quality.value); });
  player.loadSource(playback.url);
  player.attachMedia(video);
  video.addEventListener('loadedmetadata', () => {
    if (started && started.position_secs > 0) video.currentTime = started.position_secs;
    video.dataset.resumedFrom = String(started?.position_secs ?? 0);
  }, { once: true });
  scrubber(video, playback.storyboard_url);
  const report = () => {
    if (!video.duration || !isFinite(video.duration)) return;
    const item = episode ? { episode_id: episode.id } : { title_id: title.id };
    api(`/api/v1/profiles/${pid}/progress`, { method: 'PUT', body: { ...item, position_secs: video.currentTime, duration_secs: video.duration } })
      .then(() => { video.dataset.reported = String(video.currentTime); })
      .catch(() => {});
  };
  const timer = setInterval(report, 5000);
  let countdown = null;
  video.addEventListener('pause', report);
  video.addEventListener('ended', () => {
    report();
    const upNext = document.getElementById('up-next');
    if (!upNext) return;
    upNext.hidden = false;
    let left = 10;
    const tick = () => {
      document.getElementById('countdown').textContent = `in ${left} s`;
      if (left-- <= 0) { clearInterval(countdown); location.hash = `#/episode/${next.id}`; }
    };
    tick();
    countdown = setInterval(tick, 1000);
    document.getElementById('stay').addEventListener('click', () => { clearInterval(countdown); upNext.hidden = true; }, { once: true });
  });
  window.addEventListener('hashchange', () => { clearInterval(timer); clearInterval(countdown); report(); player.destroy(); }, { once: true });
  video.muted = true;
  video.play().catch(() => {});
}

// The studio's list of assets, newest first, filtered by state, a page at a time: each
// with its job's phase and progress (refreshed while any is processing), its error, size,
// length, rungs, who uploaded it and when, and buttons to cancel, requeue or delete it.
const WEBHOOK_EVENTS = ['asset.playable', 'asset.ready', 'asset.failed', 'asset.deleted', 'title.published'];

// The studio's webhooks: register an endpoint (its signing secret is shown once), list
// them, open one's delivery log (state, attempts, the receiver's last answer) and resend
// a delivery, or delete the endpoint.
function webhookList() {
  const form = document.getElementById('webhook-form');
  const rows = document.getElementById('webhook-rows');
  const log = document.getElementById('webhook-log');
  const error = document.getElementById('webhook-error');
  const secret = document.getElementById('webhook-secret');
  const when = secs => secs ? new Date(secs * 1000).toLocaleString() : '';
  const load = async () => {
    const { webhooks } = await api('/api/v1/webhooks');
    rows.innerHTML = webhooks.map(w => `<tr data-webhook="${esc(w.id)}" data-testid="webhook-row"><td>${esc(w.url)}</td>
      <td>${w.events.map(esc).join(', ')}</td>
      <td><button class="secondary" data-act="log" data-testid="webhook-open-log">Deliveries</button>
      <button class="secondary" data-act="delete" data-testid="delete-webhook">Delete</button></td></tr>`).join('')
      || '<tr><td colspan="3" class="muted">No endpoints.</td></tr>';
  };
  const showLog = async id => {
    const { deliveries } = await api(`/api/v1/webhooks/${id}/deliveries`);
    log.dataset.webhook = id;
    log.innerHTML = `<h3>Deliveries</h3>` + (deliveries.length ? `<table class="assets"><thead><tr><th>Event</th><th>State</th>
      <th>Attempts</th><th>Last answer</th><th>When</th><th></th></tr></thead><tbody>${deliveries.map(d => `<tr data-delivery="${esc(d.id)}">
      <td>${esc(d.event_type)}</td><td>${esc(d.state)}</td><td>${d.attempts}</td>
      <td>${d.last_status || ''} <small class="error">${esc(d.last_error)}</small></td>
      <td>${when(d.delivered_at || d.created_at)}</td>
      <td><button class="secondary" data-act="resend">Resend</button></td></tr>`).join('')}</tbody></table>`
      : '<p class="muted" data-testid="no-deliveries">No deliveries yet.</p>');
  };
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const events = [...form.querySelectorAll('input[name=events]:checked')].map(input => input.value);
    try {
      const created = await api('/api/v1/webhooks', { method: 'POST', body: { url: form.url.value, events } });
      secret.hidden = false;
      secret.innerHTML = `Signing secret, shown this once: <code>${esc(created.secret)}</code>`;
      error.textContent = '';
      form.reset();
      await load();
    } catch (failure) { error.textContent = `${failure.code || ''}: ${failure.message}`; }
  });
  rows.addEventListener('click', async event => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    const id = button.closest('tr').dataset.webhook;
    try {
      if (button.dataset.act === 'log') { await showLog(id); return; }
      if (!confirm('Delete this endpoint and its delivery log?')) return;
      await api(`/api/v1/webhooks/${id}`, { method: 'DELETE' });
      if (log.dataset.webhook === id) log.innerHTML = '';
      await load();
    } catch (failure) { error.textContent = failure.message; }
  });
  log.addEventListener('click', async event => {
    const tr = event.target.closest('button[data-act=resend]')?.closest('tr');
    if (!tr) return;
    try {
      await api(`/api/v1/webhooks/${log.dataset.webhook}/deliveries/${tr.dataset.delivery}/resend`, { method: 'POST' });
      await showLog(log.dataset.webhook);
    } catch (failure) { error.textContent = failure.message; }
  });
  load().catch(failure => { error.textContent = failure.message; });
}

function assetList() {
  const rows = document.getElementById('asset-rows');
  const filter = document.getElementById('asset-state');
  const more = document.getElementById('more-assets');
  const error = document.getElementById('asset-error');
  // `latest` numbers the loads: a filter change and a requeue can each start one, and
  // only the newest may paint, or a slow stale answer would put back the old state.
  let token = '', shown = [], refresh = null, latest = 0;
  const emails = new Map();
  const who = id => id === state.user?.id ? 'you' : emails.has(id) ? esc(emails.get(id)) : id ? `user ${esc(id.slice(0, 8))}` : '';
  // Who uploaded what, by email: one lookup for the ids not seen yet.
  const learn = async assets => {
    const ids = [...new Set(assets.map(a => a.created_by))].filter(id => id && !emails.has(id));
    if (!ids.length) return;
    const found = await api(`/api/v1/users?ids=${ids.join(',')}`).catch(() => ({ users: [] }));
    for (const user of found.users) emails.set(user.id, user.email);
  };
  const when = secs => secs ? new Date(secs * 1000).toLocaleString() : '';
  const row = a => {
    const job = a.job || {};
    const progress = a.state === 'processing' ? ` · ${esc(job.phase)} <progress max="100" value="${job.percent || 0}"></progress> ${Math.round(job.percent || 0)}%` : '';
    const failure = a.error_code ? `<br><small class="error">${esc(a.error_code)}: ${esc(a.error_message)}</small>` : '';
    const actions = [
      a.state === 'processing' ? `<button class="secondary" data-act="cancel" data-testid="cancel-job">Cancel</button>` : '',
      ['failed', 'cancelled'].includes(a.state) ? `<button class="secondary" data-act="requeue" data-testid="requeue-job">Requeue</button>` : '',
      `<button class="secondary" data-act="delete" data-testid="delete-asset">Delete</button>`,
    ].join(' ');
    return `<tr data-asset="${esc(a.id)}" data-job="${esc(a.job_id)}" data-testid="asset-row">
      <td>${esc(a.filename)}</td><td data-testid="asset-state-cell">${esc(a.state)}${progress}${failure}</td>
      <td>${a.size_bytes ? bytes(a.size_bytes) : ''} · ${Math.round(a.duration_secs)} s</td>
      <td>${a.renditions.map(r => esc(r.name)).join(' ')}</td><td>${who(a.created_by)}<br><small>${when(a.created_at)}</small></td>
      <td>${actions}</td></tr>`;
  };
  const paint = () => {
    rows.innerHTML = shown.map(row).join('') || '<tr><td colspan="6" class="muted">No assets.</td></tr>';
    more.hidden = !token;
    clearTimeout(refresh);
    if (shown.some(a => a.state === 'processing') && document.getElementById('asset-rows') === rows) refresh = setTimeout(() => load(true), 3000);
  };
  const load = async reset => {
    const mine = ++latest;
    try {
      const query = new URLSearchParams({ page_size: '20' });
      if (filter.value) query.set('state', filter.value);
      if (!reset && token) query.set('page_token', token);
      const page = await api(`/api/v1/assets?${query}`);
      await learn(page.assets);
      if (mine !== latest) return;
      shown = reset ? page.assets : shown.concat(page.assets);
      token = page.next_page_token;
      error.textContent = '';
      paint();
    } catch (failure) { if (mine === latest) error.textContent = failure.message; }
  };
  filter.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));
  rows.addEventListener('click', async event => {
    const button = event.target.closest('button[data-act]');
    if (!button) return;
    const tr = button.closest('tr');
    const act = button.dataset.act;
    if (act === 'delete' && !confirm('Delete this asset, its ladder and its source for good?')) return;
    try {
      if (act === 'delete') await api(`/api/v1/assets/${tr.dataset.asset}`, { method: 'DELETE' });
      else await api(`/api/v1/jobs/${tr.dataset.job}/${act}`, { method: 'POST' });
      await load(true);
    } catch (failure) { error.textContent = failure.message; }
  });
  load(true);
}

// The studio's viewing figures: watch time per day as bars (thirty rectangles of SVG
// need no chart library), the range's totals, and the most watched titles; choosing one
// shows that title's own days.
function viewingFigures() {
  const days = document.getElementById('viewing-days');
  const all = document.getElementById('viewing-all');
  const error = document.getElementById('viewing-error');
  let title = null, latest = 0;
  const hours = secs => (secs / 3600).toFixed(secs < 360 ? 2 : 1);
  const chart = list => {
    const width = 600, height = 120, most = Math.max(1, ...list.map(d => d.watch_secs));
    const step = width / list.length;
    const bars = list.map((d, i) => {
      const h = Math.round(d.watch_secs / most * (height - 10));
      return `<rect x="${(i * step).toFixed(1)}" y="${height - h}" width="${Math.max(step - 2, 1).toFixed(1)}" height="${h}"
        data-testid="viewing-bar" data-day="${esc(d.day)}" data-secs="${d.watch_secs}"><title>${esc(d.day)}: ${hours(d.watch_secs)} h,
        ${d.plays} plays, ${d.viewers} viewers, ${d.completions} completions</title></rect>`;
    }).join('');
    return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Hours watched per day">${bars}
      <line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}"></line></svg>`;
  };
  const load = async () => {
    const mine = ++latest;
    try {
      const path = title ? `/api/v1/titles/${title.id}/analytics` : '/api/v1/analytics';
      const stats = await api(`${path}?days=${days.value}`);
      if (mine !== latest) return;
      const t = stats.total;
      document.getElementById('viewing-of').textContent = title ? title.name : 'every title';
      all.hidden = !title;
      document.getElementById('viewing-chart').innerHTML = chart(stats.days);
      document.getElementById('viewing-total').textContent =
        `${t.plays} plays · ${t.viewers} viewers · ${hours(t.watch_secs)} hours · ${t.completions} completions`;
      document.getElementById('viewing-top').closest('table').hidden = Boolean(title);
      document.getElementById('viewing-top').innerHTML = title ? '' : stats.top.map(row => `<tr data-testid="viewing-title">
        <td><button class="link" data-title="${esc(row.title_id)}" data-name="${esc(row.title)}">${esc(row.title)}</button></td>
        <td>${hours(row.watch_secs)}</td><td>${row.plays}</td><td>${row.viewers}</td><td>${row.completions}</td></tr>`).join('')
        || '<tr><td colspan="5" class="muted">Nothing watched yet.</td></tr>';
      error.textContent = '';
    } catch (failure) { if (mine === latest) error.textContent = failure.message; }
  };
  days.addEventListener('change', load);
  all.addEventListener('click', () => { title = null; load(); });
  document.getElementById('viewing-top').addEventListener('click', event => {
    const button = event.target.closest('button[data-title]');
    if (!button) return;
    title = { id: button.dataset.title, name: button.dataset.name };
    load();
  });
  load();
}

// The seek bar under the player, with storyboard previews: hovering or dragging shows
// the sprite-sheet tile of that moment (the WebVTT cues name a tile by `#xywh=`).
async function scrubber(video, storyboardUrl) {
  const bar = document.getElementById('scrub');
  const preview = document.getElementById('preview');
  let cues = [];
  if (storyboardUrl) {
    try {
      const text = await (await fetch(storyboardUrl)).text();
      const stamp = t => t.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
      cues = [...text.matchAll(/([\d:.]+) --> ([\d:.]+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/g)].map(m => ({
        start: stamp(m[1]), end: stamp(m[2]), url: new URL(m[3], storyboardUrl).href, x: +m[4], y: +m[5], w: +m[6], h: +m[7] }));
    } catch { cues = []; }
  }
  const timeAt = clientX => {
    const box = bar.getBoundingClientRect();
    return Math.min(Math.max((clientX - box.left) / box.width, 0), 1) * (video.duration || 0);
  };
  const show = (time, clientX) => {
    const cue = cues.find(c => time >= c.start && time < c.end) || cues[cues.length - 1];
    if (!cue) return;
    // Set through the CSSOM: the page's CSP allows no inline style attributes.
    Object.assign(preview.style, { width: `${cue.w}px`, height: `${cue.h}px`, backgroundImage: `url("${cue.url}")`,
      backgroundPosition: `-${cue.x}px -${cue.y}px`, left: `${clientX - bar.getBoundingClientRect().left - cue.w / 2}px` });
    preview.dataset.time = String(time);
    preview.hidden = false;
  };
  bar.addEventListener('mousemove', event => show(timeAt(event.clientX), event.clientX));
  bar.addEventListener('mouseleave', () => { preview.hidden = true; });
  bar.addEventListener('input', () => {
    const time = Number(bar.value) / 1000 * (video.duration || 0);
    const box = bar.getBoundingClientRect();
    show(time, box.left + box.width * Number(bar.value) / 1000);
  });
  bar.addEventListener('change', () => { video.currentTime = Number(bar.value) / 1000 * (video.duration || 0); preview.hidden = true; });
  video.addEventListener('timeupdate', () => { if (video.duration && document.activeElement !== bar) bar.value = String(Math.round(video.currentTime / video.duration * 1000)); });
}

// The audio and subtitle menus of the player. The viewer's choice is kept per profile (in
// this browser) by language and name, and applied to every title that offers it; cues are
// rendered by the browser as text, never as markup.
function trackMenus(player, pid) {
  const key = `ottr.tracks.${pid}`;
  const chosen = JSON.parse(localStorage.getItem(key) || '{}');
  const remember = (kind, track) => {
    chosen[kind] = track ? { lang: track.lang || '', name: track.name || '' } : 'off';
    localStorage.setItem(key, JSON.stringify(chosen));
  };
  const find = (tracks, wanted) => {
    if (!wanted || wanted === 'off') return -1;
    const exact = tracks.findIndex(t => t.lang === wanted.lang && t.name === wanted.name);
    return exact >= 0 ? exact : tracks.findIndex(t => wanted.lang && t.lang === wanted.lang);
  };
  const label = track => esc(track.name || track.lang || 'Track');
  const audio = document.getElementById('audio');
  const subtitles = document.getElementById('subtitles');
  player.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_, data) => {
    audio.innerHTML = data.audioTracks.map((t, i) => `<option value="${i}">${label(t)}</option>`).join('');
    audio.parentElement.hidden = data.audioTracks.length < 2;
    const wanted = find(data.audioTracks, chosen.audio);
    if (wanted >= 0 && wanted !== player.audioTrack) player.audioTrack = wanted;
    audio.value = String(player.audioTrack);
  });
  player.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_, data) => { audio.value = String(data.id); });
  player.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, data) => {
    subtitles.innerHTML = '<option value="-1">Off</option>' + data.subtitleTracks
      .map((t, i) => `<option value="${i}">${label(t)}${t.forced ? ' (forced)' : ''}</option>`).join('');
    subtitles.parentElement.hidden = data.subtitleTracks.length === 0;
    const wanted = find(data.subtitleTracks, chosen.subtitles);
    player.subtitleDisplay = wanted >= 0;
    player.subtitleTrack = wanted;
    subtitles.value = String(wanted);
  });
  audio.addEventListener('change', () => {
    player.audioTrack = Number(audio.value);
    remember('audio', player.audioTracks[Number(audio.value)]);
  });
  subtitles.addEventListener('change', () => {
    const index = Number(subtitles.value);
    player.subtitleDisplay = index >= 0;
    player.subtitleTrack = index;
    remember('subtitles', player.subtitleTracks[index]);
  });
}

// What the transcode made of an asset, and a form to add a subtitle or caption file.
const bytes = n => n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
const kbps = (n, secs) => secs > 0 ? Math.round(n * 8 / secs / 1000) : 0;

async function showTracks(asset) {
  const box = document.getElementById('tracks');
  const paintTracks = found => {
    const audio = found.audio_tracks.map(a => `<li>${esc(a.label)} ${esc(a.language)} · ${a.channels === 6 ? '5.1' : 'stereo'}${a.default ? ' · default' : ''}${a.result ? ` · ${a.result.integrated_lufs.toFixed(1)} LUFS` : ''}${a.measured ? ` (source ${a.measured.integrated_lufs.toFixed(1)})` : ''}</li>`).join('');
    const subs = found.subtitle_tracks.map(s => `<li>${esc(s.label)} ${esc(s.language)} · ${esc(s.kind)}${s.forced ? ' · forced' : ''} · ${esc(s.origin)}</li>`).join('');
    const picture = [found.deinterlaced ? 'deinterlaced' : '', found.tone_mapped_from ? `HDR (${esc(found.tone_mapped_from)}) tone-mapped to SDR` : ''].filter(Boolean).join(' · ');
    const rungs = found.renditions.map(r => `<li>${esc(r.name)} ${r.width}×${r.height}${r.bytes ? ` · ${bytes(r.bytes)} (${kbps(r.bytes, found.duration_secs)} kb/s of ${r.video_bitrate_kbps} nominal)` : ` · ${r.video_bitrate_kbps} kb/s nominal`}</li>`).join('');
    const size = found.ladder_bytes ? `<p data-testid="ladder-size">${bytes(found.ladder_bytes)} in storage · ${bytes(found.bytes_per_hour)} per hour of content</p>` : '';
    box.querySelector('#track-list').innerHTML = `<p>Ladder</p><ul data-testid="ladder">${rungs || '<li class="muted">none yet</li>'}</ul>${size}
      <p>Audio</p><ul data-testid="audio-tracks">${audio || '<li class="muted">none</li>'}</ul>
      <p>Subtitles</p><ul data-testid="subtitle-tracks">${subs || '<li class="muted">none</li>'}</ul>
      ${picture ? `<p class="muted">${picture}</p>` : ''}${found.notes.map(n => `<p class="muted">${esc(n)}</p>`).join('')}`;
  };
  box.hidden = false;
  paintTracks(await api(`/api/v1/assets/${asset}`));
  const form = box.querySelector('form');
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const query = new URLSearchParams({ language: form.language.value, label: form.label.value, kind: form.kind.value });
    const answer = await fetch(`/api/v1/assets/${asset}/subtitles?${query}`, {
      method: 'POST', headers: { authorization: `Bearer ${state.token}`, 'content-type': 'text/vtt' }, body: form.file.files[0] });
    const data = await answer.json().catch(() => ({}));
    box.querySelector('.error').textContent = answer.ok ? '' : data.message || answer.statusText;
    if (answer.ok) { paintTracks(data); form.reset(); }
  });
}

// tus 1.0 with tus-js-client (served by the edge at /vendor/tus.min.js): create, then PATCH
// 64 MiB at a time (each request's fixed cost is about that of an 8 MiB part, and a request
// that breaks off keeps every whole part it brought, so larger requests lose nothing). The client remembers each unfinished upload's URL in localStorage by the
// file's name, size and date, so the same file picked again after a reload resumes from the
// server's offset. The last PATCH's answer names the asset and its transcode job.
const SIGNED_OUT = Object.assign(new Error('the session has ended: sign in again'), { status: 401 });

function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    let asset = '', job = '', renewal = null;
    const task = new tus.Upload(file, {
      endpoint: new URL('/api/v1/uploads', window.location.href).href,
      chunkSize: 64 * 1024 * 1024,
      metadata: { filename: file.name },
      retryDelays: [0, 1000, 3000, 5000],
      removeFingerprintOnSuccess: true,
      // Every request, retries included, goes with the current access token, once the
      // renewal this upload asked for is done.
      onBeforeRequest: async req => {
        if (renewal && !(await renewal)) throw SIGNED_OUT;
        req.setHeader('authorization', `Bearer ${state.token}`);
      },
      onAfterResponse: (req, res) => {
        asset = res.getHeader('ottr-asset-id') || asset;
        job = res.getHeader('ottr-job-id') || job;
      },
      // tus-js-client's own rule (retry unless a client error other than 409 and 423), and
      // an expired access token renewed as api() does it, one exchange shared with other
      // requests; a token renewed meanwhile is simply used. Retries stay within retryDelays.
      onShouldRetry: error => {
        if (error.causingError === SIGNED_OUT) return false;
        const status = error.originalResponse?.getStatus() ?? 0;
        if (status !== 401) return (status < 400 || status === 409 || status === 423) && navigator.onLine !== false;
        if (error.originalRequest.getHeader('authorization') !== `Bearer ${state.token}`) return true;
        if (!state.refresh) return false;
        renewal = renewSession().catch(() => false);
        return true;
      },
      onProgress: (sent, total) => onProgress(Math.round(sent / total * 100)),
      onSuccess: () => {
        if (!asset || !job) { reject(new Error('the upload finished but its asset was not named: upload the file again')); return; }
        onProgress(100);
        resolve({ asset, job });
      },
      onError: error => reject(refusal(error)),
    });
    task.findPreviousUploads().then(previous => {
      if (previous.length) task.resumeFromPreviousUpload(previous[0]);
      task.start();
    }, reject);
  });
}

// What the edge said when it refused an upload ({ code, message }), else what went wrong.
function refusal(error) {
  if (error.causingError === SIGNED_OUT) return SIGNED_OUT;
  const answer = error.originalResponse;
  if (!answer) return new Error(error.originalRequest ? 'the connection dropped' : error.message);
  let said = null;
  try { said = JSON.parse(answer.getBody() || 'null'); } catch { said = null; }
  return new Error(said?.message || `upload stopped (${answer.getStatus()})`);
}

// The transcode, live: Server-Sent Events relayed by the edge from media's WatchJob.
function follow(job, title, asset) {
  const source = new EventSource(`/api/v1/jobs/${job}/events?access_token=${encodeURIComponent(state.token)}`);
  source.addEventListener('progress', message => {
    const event = JSON.parse(message.data);
    document.getElementById('job-bar').value = event.percent;
    document.getElementById('job-phase').textContent = event.phase;
    document.getElementById('job-detail').textContent = event.speed ? `${event.speed.toFixed(1)}× · ${Math.round(event.eta_secs)} s left` : '';
    if (['ready', 'failed', 'cancelled'].includes(event.phase)) {
      source.close();
      if (event.phase === 'failed') document.getElementById('job-detail').textContent = event.error_message;
      if (event.phase === 'ready') {
        showTracks(asset).catch(error => { document.getElementById('job-detail').textContent = error.message; });
        const publish = document.getElementById('publish');
        publish.hidden = false;
        publish.addEventListener('click', async () => {
          await api(`/api/v1/titles/${title.id}/visibility`, { method: 'PUT', body: { visibility: 'published' } });
          const open = document.getElementById('open');
          open.href = `#/title/${title.id}`;
          open.hidden = false;
          publish.textContent = 'Published ✓';
        }, { once: true });
      }
    }
  });
}

// Pages load data before they paint; a page whose navigation was overtaken by another
// must not paint over it.
const STALE = Symbol('stale');
let navigation = 0;

async function route() {
  const mine = ++navigation;
  const paint = html => { if (mine !== navigation) throw STALE; view.innerHTML = html; };
  renderNav();
  const [path, query = ''] = location.hash.split('?');
  const [, page = '', arg] = path.split('/');
  const handler = { '': pages.home, login: pages.login, title: pages.title, watch: pages.watch, episode: pages.episode,
    profiles: pages.profiles, account: pages.account, activate: pages.activate, studio: pages.studio }[page] || pages.home;
  // Browsing and title pages are public; playing and the studio need a sign-in.
  const open = [pages.login, pages.home, pages.title];
  // Where a visitor was going (a TV's activation link, say) is where sign-in leads back.
  if (!state.token && !open.includes(handler)) { sessionStorage.setItem('ottr.after', location.hash); location.hash = '#/login'; return; }
  try { await handler(handler === pages.activate ? query : arg && decodeURIComponent(arg), paint); }
  catch (error) {
    if (error === STALE) return;
    if (error.status === 401) { for (const key of Object.keys(state)) delete state[key]; save(); location.hash = '#/login'; return; }
    if (mine === navigation) view.innerHTML = `<p class="error" data-testid="page-error">${esc(error.message)}</p>`;
  }
}

window.addEventListener('hashchange', route);
route();
