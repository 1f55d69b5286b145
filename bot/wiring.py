"""The composition root: the ONLY place that turns config into adapters.

Paper vs live, SQLite vs PostgreSQL and which strategy runs are chosen here and nowhere
else; the engine and commands receive ports.
"""

from __future__ import annotations

from bot.config import Settings
from bot.domain.market import DEFAULT_ASSET_MAP, AssetMap
from bot.ports import PositionSource


def asset_map(settings: Settings) -> AssetMap:
    """Default token->asset map plus the config's `[assets]` (symbols or 0x addresses)."""
    by_symbol = dict(DEFAULT_ASSET_MAP)
    by_address: dict[str, str] = {}
    for key, asset in settings.assets.items():
        if key.startswith("0x") and len(key) == 42:
            by_address[key.lower()] = asset.upper()
        else:
            by_symbol[key.upper()] = asset.upper()
    return AssetMap(by_symbol=by_symbol, by_address=by_address)


def position_source(settings: Settings) -> PositionSource:
    from bot.chain.reader import ChainReader, ChainReaderConfig

    chain = settings.chain
    return ChainReader(
        ChainReaderConfig(
            rpc_urls=chain.rpc_url_values(),
            chain_id=chain.chain_id,
            position_manager=chain.position_manager,
            token_ids=tuple(chain.token_ids),
            owners=tuple(chain.owners),
            v2_pairs=tuple(chain.v2_pairs),
            multicall_address=chain.multicall,
        )
    )
