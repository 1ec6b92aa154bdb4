import { useEffect, useMemo, useState } from 'preact/hooks';
import { Chat } from '../chat';
import { session } from '../session';
import { ChatContext, conversationIdFromPath, linkClick, navigate, useChat, useChatUpdates, usePath } from './hooks';
import { Avatar, displayName } from './common';
import { ConversationList } from './ConversationList';
import { SearchAllPanel } from './SearchAllPanel';
import { SettingsDialog } from './SettingsDialog';
import { NewConversationDialog } from './NewConversationDialog';
import { MessagePane } from './MessagePane';
import { PushToggle } from './PushToggle';
import { IconClose, IconPlus, IconSearch, IconSettings, IconShield, IconSignOut } from './icons';
import { Invitations } from './Invitations';
import { AdminArea } from './AdminArea';
import { pagePath } from '../base';

/** The admin area's path. */
export const adminPath = '/admin';

export function Main(props: { userId: string }) {
  const chat = useMemo(() => new Chat(props.userId), [props.userId]);
  useEffect(() => {
    chat.start();
    return () => chat.stop();
  }, [chat]);
  useChatUpdates(chat);

  const path = usePath();
  const openId = conversationIdFromPath(path);
  const s = chat.state;
  const admin = path === adminPath && !!s.me?.isAdmin;
  useEffect(() => {
    // /admin waits for me (isAdmin) before it is judged
    if (path !== '/' && !openId && !(path === adminPath && (!s.me || s.me.isAdmin))) navigate('/', true);
    chat.openConversation(openId);
  }, [chat, path, openId, s.me]);
  // Removed from (or left) the open conversation: its view closes (chat set the notice).
  const gone = !!openId && s.gone.has(openId);
  useEffect(() => {
    if (gone) navigate('/', true);
  }, [gone]);

  const [creating, setCreating] = useState(false);
  const [settings, setSettings] = useState(false);
  const me = s.me ?? s.users.get(s.userId);

  return (
    <ChatContext.Provider value={chat}>
      <div class={`app ${openId || admin ? 'has-open' : ''}`} data-conn={s.conn}>
        <ConnectionBanner />
        {s.notice && (
          <div class="toast" role="alert">
            <span>{s.notice}</span>
            <button class="icon-btn" aria-label="Dismiss" onClick={() => chat.setNotice(null)}>
              <IconClose />
            </button>
          </div>
        )}
        <div class="layout">
          <aside class="sidebar" aria-label="Conversations">
            <header class="sidebar-head">
              <div class="me">
                <Avatar name={displayName(me, '?')} seed={s.userId} online={s.conn === 'connected'} />
                <div class="me-text">
                  <span class="me-name">{displayName(me, 'You')}</span>
                  {me && <span class="me-handle">@{me.username}</span>}
                </div>
              </div>
              <button
                class={`icon-btn ${s.searchAll ? 'active' : ''}`}
                aria-label="Search all conversations"
                aria-expanded={s.searchAll ? 'true' : 'false'}
                title="Search all conversations"
                onClick={() => (s.searchAll ? chat.closeSearchAll() : chat.openSearchAll())}
              >
                <IconSearch />
              </button>
              <PushToggle onError={(m) => chat.setNotice(m)} />
              <button class="icon-btn" aria-label="New conversation" title="New conversation" onClick={() => setCreating(true)}>
                <IconPlus />
              </button>
              {me?.isAdmin && (
                <a
                  class={`icon-btn ${admin ? 'active' : ''}`}
                  href={pagePath(adminPath)}
                  aria-label="Administration"
                  title="Administration"
                  aria-current={admin ? 'page' : undefined}
                  onClick={(e) => linkClick(e, adminPath)}
                >
                  <IconShield />
                </a>
              )}
              <button class="icon-btn" aria-label="Settings" title="Settings" onClick={() => setSettings(true)}>
                <IconSettings />
              </button>
              <button
                class="icon-btn"
                aria-label="Sign out"
                title="Sign out"
                onClick={() => {
                  navigate('/', true);
                  void session.signOut();
                }}
              >
                <IconSignOut />
              </button>
            </header>
            {s.searchAll && <SearchAllPanel />}
            <Invitations />
            <ConversationList openId={openId} onNew={() => setCreating(true)} />
          </aside>
          <main class="pane">
            {admin ? (
              <AdminArea />
            ) : openId ? (
              <MessagePane key={openId} conversationId={openId} />
            ) : (
              <div class="empty-pane">
                <p>Pick a conversation, or start a new one.</p>
                <button class="primary" onClick={() => setCreating(true)}>
                  New conversation
                </button>
              </div>
            )}
          </main>
        </div>
        {creating && <NewConversationDialog onClose={() => setCreating(false)} />}
        {settings && <SettingsDialog onClose={() => setSettings(false)} />}
      </div>
    </ChatContext.Provider>
  );
}

/** Offline / reconnecting, announced politely; nothing while all is well. */
function ConnectionBanner() {
  const s = useChat().state;
  // Don't flash "Connecting…" on a normal start.
  const [grace, setGrace] = useState(true);
  useEffect(() => {
    const t = setTimeout(() => setGrace(false), 2000);
    return () => clearTimeout(t);
  }, []);
  let text: string | null = null;
  let tone = 'warn';
  if (!s.online) {
    text = "You're offline. Waiting for the network to come back…";
    tone = 'bad';
  } else if (s.conn === 'reconnecting') text = 'Connection lost. Reconnecting…';
  else if (s.conn === 'connecting' && !grace) text = 'Connecting…';
  return (
    <div class={`banner ${text ? `banner-${tone}` : 'banner-hidden'}`} role="status" aria-live="polite">
      {text}
    </div>
  );
}
