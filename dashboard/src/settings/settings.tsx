// Settings: a side menu and one section per page.
import type { JSX } from 'preact';
import { PageHead } from '../components/layout';
import { useTitle } from '../data';
import { useRole } from '../role';
import { Link } from '../router';
import { AccountSettings } from './account';
import { ApiKeySettings } from './apikeys';
import { DataSettings } from './data';
import { SpamSettings } from './spam';
import { TrackerSettings } from './tracker';
import { UsageSettings } from './usage';
import { UserSettings } from './users';
import { WebsiteSettings } from './websites';

// Everything but Account is for admins (docs/accounts.md): a viewer changes only its own password.
export const SETTINGS_SECTIONS = [
  { key: 'account', label: 'Account', title: 'Account Settings | Medama' },
  { key: 'users', label: 'Users', title: 'User Settings | Medama' },
  { key: 'websites', label: 'Websites', title: 'Website Settings | Medama' },
  { key: 'tracker', label: 'Tracker', title: 'Tracker Settings | Medama' },
  { key: 'spam', label: 'Spam', title: 'Spam Settings | Medama' },
  { key: 'usage', label: 'Usage', title: 'Usage Settings | Medama' },
  { key: 'data', label: 'Data', title: 'Data Settings | Medama' },
  { key: 'api-keys', label: 'API keys', title: 'API Keys | Medama' },
];

const PAGES: Record<string, () => JSX.Element> = {
  account: AccountSettings,
  users: UserSettings,
  websites: WebsiteSettings,
  tracker: TrackerSettings,
  spam: SpamSettings,
  usage: UsageSettings,
  data: DataSettings,
  'api-keys': ApiKeySettings,
};

export function SettingsPage({ section }: { section: string }): JSX.Element {
  const info = SETTINGS_SECTIONS.find((s) => s.key === section) ?? SETTINGS_SECTIONS[0];
  useTitle(info.title);
  const role = useRole();
  const sections = SETTINGS_SECTIONS.filter((s) => s.key === 'account' || role === 'admin');
  const Page = role === 'viewer' && info.key !== 'account' ? AccountSettings : PAGES[info.key];
  return (
    <div class="page-width">
      <PageHead title="Settings" />
      <div class="settings-layout">
        <nav class="settings-nav" aria-label="Settings">
          <ul>
            {sections.map((s) => (
              <li key={s.key}>
                <Link href={`/settings/${s.key}`} aria-current={s.key === info.key ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="settings-content">
          <Page key={info.key} />
        </div>
      </div>
    </div>
  );
}
