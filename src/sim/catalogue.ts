import type { CatalogueForm } from '../db/types.js';

export interface SimVariation {
  key: string;
  name: string;
  price: number;
  isActive: boolean;
}

export interface SimBrand {
  key: string;
  name: string;
  /** null: the brand list does not say (the field is left out of the reply). */
  isVoucher: boolean | null;
  isActive: boolean;
  forms: CatalogueForm[];
  variations: SimVariation[];
}

/**
 * The simulator's catalogue: the published scenario keys (MLBB112 top-up, STEAMV50
 * voucher; VCG does not exist), and a brand with an `option` form field.
 */
export function defaultCatalogue(): SimBrand[] {
  return [
    {
      key: 'MLBB',
      name: 'Mobile Legends: Bang Bang',
      isVoucher: false,
      isActive: true,
      forms: [
        { key: 'user_id', type: 'numeric', alias: 'User ID' },
        { key: 'zone_id', type: 'numeric', alias: 'Zone ID' },
      ],
      variations: [
        { key: 'MLBB112', name: '112 Diamonds', price: 15000, isActive: true },
        { key: 'MLBB86', name: '86 Diamonds', price: 20000, isActive: true },
        { key: 'MLBB5000', name: '5000 Diamonds', price: 1_250_000, isActive: false },
      ],
    },
    {
      key: 'STEAM',
      name: 'Steam Wallet',
      isVoucher: true,
      isActive: true,
      forms: [],
      variations: [{ key: 'STEAMV50', name: 'Steam Wallet IDR 50.000', price: 55000, isActive: true }],
    },
    {
      key: 'GENSHIN',
      name: 'Genshin Impact',
      isVoucher: false,
      isActive: true,
      forms: [
        { key: 'user_id', type: 'numeric', alias: 'UID' },
        {
          key: 'server',
          type: 'option',
          alias: 'Server',
          options: ['Asia', 'America', 'Europe', 'TW_HK_MO'],
        },
      ],
      variations: [{ key: 'GI60', name: '60 Genesis Crystals', price: 16000, isActive: true }],
    },
  ];
}
